"""Domain logic of the content service: plain async functions over an AsyncSession."""

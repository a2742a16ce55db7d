"""Domain logic of the resource library: plain async functions over an AsyncSession."""

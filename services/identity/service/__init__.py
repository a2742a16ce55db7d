"""Domain logic of the identity service: plain async functions over an AsyncSession."""

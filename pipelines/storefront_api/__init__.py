"""The storefront order API of `marketsync serve`: the store's own shop pushes its orders here."""

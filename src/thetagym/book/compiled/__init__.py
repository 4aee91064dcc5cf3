"""The book's compiled kernels (numba): pricing of leg slots, the guard, trades, margin and the
step over a batch of envs. :class:`thetagym.book.Book` is their Python face."""

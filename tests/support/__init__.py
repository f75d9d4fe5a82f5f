"""What the tests share: builders, fakes, worlds and the invariants."""

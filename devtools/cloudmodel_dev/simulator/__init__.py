"""A loopback simulator of the four provider APIs, for tests and the local sandbox (see `server`)."""

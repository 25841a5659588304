// Each test runs a whole deployment (PostgreSQL, Redis, three servers): one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

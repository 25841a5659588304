// The fault tests start and kill many real processes on purpose; one at a time keeps a run's
// timing (and so the moments the faults hit) comparable between machines.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

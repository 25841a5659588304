namespace Parley.Server.Tests.Infrastructure;

/// <summary>The storage engines every contract test runs against.</summary>
public enum Engine
{
    Sqlite,
    Postgres,
}

/// <summary>Theory data for the contract tests, as NSec's tests/Registry.cs lists its algorithms.</summary>
public static class Registry
{
    public static TheoryData<Engine> Engines => [Engine.Sqlite, Engine.Postgres];
}

using Parley.Protocol.Identity;

namespace Parley.Protocol.Tests.Behaviour;

public class SafetyNumberTests
{
    [Fact]
    public void BothSidesSeeTheSameSixtyDigits()
    {
        using var alice = IdentityKeyPair.Generate();
        using var bob = IdentityKeyPair.Generate();

        var seenByAlice = SafetyNumber.Compute("alice", alice.PublicKey, "bob", bob.PublicKey);
        var seenByBob = SafetyNumber.Compute("bob", bob.PublicKey, "alice", alice.PublicKey);

        Assert.Equal(seenByAlice, seenByBob);
        Assert.Equal(60, seenByAlice.Length);
        Assert.All(seenByAlice, ch => Assert.InRange(ch, '0', '9'));
    }

    [Fact]
    public void ADifferentKeyOrNameChangesTheNumber()
    {
        using var alice = IdentityKeyPair.Generate();
        using var bob = IdentityKeyPair.Generate();
        using var mallory = IdentityKeyPair.Generate();
        var genuine = SafetyNumber.Compute("alice", alice.PublicKey, "bob", bob.PublicKey);

        Assert.NotEqual(genuine, SafetyNumber.Compute("alice", alice.PublicKey, "bob", mallory.PublicKey));
        Assert.NotEqual(genuine, SafetyNumber.Compute("alice", alice.PublicKey, "bobby", bob.PublicKey));
    }

    [Fact]
    public void FormatGroupsDigitsInFives()
    {
        Assert.Equal("12345 67890 12", SafetyNumber.Format("123456789012"));
    }
}

using OpsRobot.Core.Commands;

namespace OpsRobot.Core.Tests.Commands;

public sealed class SimilarityTests
{
    [Theory]
    [InlineData("same", "deploy", "deploy", 0)]
    [InlineData("one substitution", "deploy", "deplay", 1)]
    [InlineData("one insertion", "web01", "web001", 1)]
    [InlineData("an adjacent swap is one edit", "web01", "wbe01", 1)]
    [InlineData("a swap and a deletion", "web01", "wbe1", 2)]
    [InlineData("case counts by default", "Disk", "disk", 1)]
    [InlineData("from nothing", "", "abc", 3)]
    public void Distance_TwoNames_CountsTypos(string row, string a, string b, int expected)
    {
        Similarity.Distance(a, b).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("Disk", "disk", 0)]
    [InlineData("WEB01", "wbe1", 2)]
    public void Distance_IgnoringCase_LettersThatDifferOnlyInCaseAreTheSame(string a, string b, int expected)
    {
        Similarity.Distance(a, b, ignoreCase: true).ShouldBe(expected);
    }

    [Theory]
    [InlineData("within", "web01", "wbe1", true)]
    [InlineData("case ignored", "WEB01", "web1", true)]
    [InlineData("three apart", "web01", "db1", false)]
    [InlineData("lengths alone too far apart", "web01", "web01-long", false)]
    public void IsWithin_TwoEdits_AsNagiosSuggestsNames(string row, string a, string b, bool expected)
    {
        Similarity.IsWithin(a, b, 2, ignoreCase: true).ShouldBe(expected, row);
    }
}

using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Aliases;

public sealed class AliasFormatMatchTests
{
    [Theory]
    [MemberData(nameof(AliasCases.StackStorm), MemberType = typeof(AliasCases))]
    public void Match_StackStormTestCase_ExtractsWhatStackStormExtracts(string format, string text, string[]? expected)
    {
        var match = AliasFormat.Parse(format).Match(text);

        ShouldHaveExtracted(match, expected, format, text);
    }

    [Theory]
    [MemberData(nameof(AliasCases.Behaviour), MemberType = typeof(AliasCases))]
    public void Match_BehaviourCase_ExtractsWhatStackStormExtracts(string format, string text, string[]? expected)
    {
        var match = AliasFormat.Parse(format).Match(text);

        ShouldHaveExtracted(match, expected, format, text);
    }

    [Theory]
    [InlineData("dns {{host}}", "dns \"a b\" c")]
    [InlineData("dns {{host}}", "dns 'a b' c")]
    [InlineData("deploy {{app}} to {{env}}", "deploy web to \"prod\" now")]
    public void Match_QuotedValueWithMoreTextAfterItsClosingQuote_DoesNotMatch(string format, string text)
    {
        // StackStorm's lazy group would give up on the quotes and take the rest, stray quote and all (`a b" c`).
        AliasFormat.Parse(format).Match(text).ShouldBeNull();
    }

    [Theory]
    [InlineData("dns {{host}}", "dns \"a b\"", "a b")]
    [InlineData("dns {{host}}", "dns \"it's\"", "it's")]
    [InlineData("dns {{host}}", "dns a \"b\" c", "a \"b\" c")]
    public void Match_QuotesThatCloseTheValue_AreStillRemovedOrKept(string format, string text, string expected)
    {
        AliasFormat.Parse(format).Match(text)!.Parameters["host"].ShouldBe(expected);
    }

    [Fact]
    public void Match_PairNamedLikeAFormatParameter_ReplacesItInParametersAndOthersAreExtra()
    {
        var format = AliasFormat.Parse("run {{cmd}} on {{host=localhost}}");

        var match = format.Match("run uptime on web1 cmd=date mode=fast")!;

        match.Parameters.ShouldBe(new Dictionary<string, string> { ["cmd"] = "date", ["host"] = "web1" });
        match.ExtraParameters.ShouldBe(new Dictionary<string, string> { ["mode"] = "fast" });
        match.All.Select(p => p.Key).ShouldBe(["cmd", "host", "mode"]);
        match.All["cmd"].ShouldBe("date");
    }

    [Fact]
    public void Match_OptionalParameterLeftOut_DefaultIsInParameters()
    {
        var match = AliasFormat.Parse("deploy {{app}} to {{env=staging}}").Match("deploy web to")!;

        match.Parameters.ShouldBe(new Dictionary<string, string> { ["app"] = "web", ["env"] = "staging" });
        match.ExtraParameters.ShouldBeEmpty();
    }

    [Fact]
    public void Match_RepeatedExtraKey_LastValueWinsAtTheFirstPlace()
    {
        var match = AliasFormat.Parse("foo").Match("foo b=1 a=1 b=2")!;

        match.ExtraParameters.Select(p => $"{p.Key}={p.Value}").ShouldBe(["b=2", "a=1"]);
    }

    [Fact]
    public void Match_RegexGroupThatTookNoPart_IsLeftOutOfParameters()
    {
        var format = AliasFormat.Parse("restart (?P<service>\\w+)(?: on (?P<host>\\w+))?");

        var match = format.Match("restart nginx")!;

        format.ParameterNames.ShouldBe(["service", "host"]);
        match.Parameters.ShouldBe(new Dictionary<string, string> { ["service"] = "nginx" });
    }

    [Fact]
    public void Match_SameFormatTwice_IsIndependentOfEarlierMatches()
    {
        var format = AliasFormat.Parse("deploy {{app}} to {{env=staging}}");

        format.Match("deploy a to prod")!.All["env"].ShouldBe("prod");
        format.Match("deploy b to")!.All["env"].ShouldBe("staging");
        format.Match("deploy c").ShouldBeNull();
    }

    [Theory]
    // alias_match_multiple fixture: every "duplicate of" runs the action (st2api test_match_and_execute_matches_one_multiple_match)
    [InlineData("(?:\\b|^)duplicate of (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)(?:\\b|$)", "JKROWLING-4 is a duplicate of JRRTOLKIEN-24 which is a duplicate of DRSEUSS-12", new[] { "JRRTOLKIEN-24", "DRSEUSS-12" })]
    // alias_fixes fixtures: both "fixes" found
    [InlineData("(?:\\b|^)fixes (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)(?:\\b|$)", "JKROWLING-4 fixes JRRTOLKIEN-24 which fixes DRSEUSS-12", new[] { "JRRTOLKIEN-24", "DRSEUSS-12" })]
    // nothing to find
    [InlineData("(?:\\b|^)fixes (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)(?:\\b|$)", "nothing here", new string[0])]
    // without its own anchors a format gets ^...$ and can match at most once
    [InlineData("fixes (?P<issue_key>[A-Z]+-\\d+)", "fixes ABC-1 fixes ABC-2", new string[0])]
    public void MatchAll_MatchMultipleFormat_FindsEveryOccurrenceInOrder(string format, string text, string[] expected)
    {
        var matches = AliasFormat.Parse(format).MatchAll(text);

        matches.Select(m => m.Parameters["issue_key"]).ShouldBe(expected);
    }

    [Fact]
    public void MatchAll_TrailingPairs_ApplyToEveryMatch()
    {
        var matches = AliasFormat.Parse("(?:\\b|^)fixes (?P<issue>[A-Z]+-\\d+)(?:\\b|$)").MatchAll("fixes AB-1 and fixes AB-2 sprint=7");

        matches.Select(m => $"{m.All["issue"]}/{m.All["sprint"]}").ShouldBe(["AB-1/7", "AB-2/7"]);
    }

    [Fact]
    public void Match_NullText_Throws()
    {
        var format = AliasFormat.Parse("deploy {{app}}");

        Should.Throw<ArgumentNullException>(() => format.Match(null!));
        Should.Throw<ArgumentNullException>(() => format.MatchAll(null!));
    }

    internal static void ShouldHaveExtracted(AliasMatch? match, string[]? expected, string format, string text)
    {
        var row = $"format \"{format}\", text \"{text}\"";
        if (expected is null)
        {
            match.ShouldBeNull(row);
            return;
        }

        match.ShouldNotBeNull(row);
        match.All.SelectMany(p => new[] { p.Key, p.Value }).ShouldBe(expected, row);
    }
}

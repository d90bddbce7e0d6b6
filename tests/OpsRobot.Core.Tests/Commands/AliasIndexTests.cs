using OpsRobot.Core.Actions;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Packs;

namespace OpsRobot.Core.Tests.Commands;

public sealed class AliasIndexTests
{
    private static AliasIndex Index(params (string Name, string[] Formats)[] aliases) => AliasIndex.Build(new PackLoadResult(
        [new LoadedPack(new Pack("p", "1", "d", "/"),
            [.. aliases.Select(a => new ActionDefinition("p", a.Name, "noop"))],
            [.. aliases.Select(a => new AliasDefinition("p", a.Name, $"p.{a.Name}") { Formats = [.. a.Formats.Select(f => new AliasFormatEntry(f, [f]))] })])],
        []));

    [Fact]
    public void Match_SeveralFormatsMatch_TheMostSpecificWins()
    {
        var index = Index(("deploy", ["deploy {{ app }}"]), ("deploy_to", ["deploy {{ app }} to {{ env }}"]));

        var lookup = index.Match("deploy booking to prod");

        lookup.Best!.Alias.Name.ShouldBe("deploy_to");
        lookup.Parameters!["env"].ShouldBe("prod");
    }

    [Fact]
    public void Match_TwoAliasesEquallySpecific_IsAmbiguousWithBothChoices()
    {
        var index = Index(("restart", ["restart {{ service }}"]), ("reboot", ["restart {{ host }}"]));

        var lookup = index.Match("restart web01");

        lookup.Best.ShouldBeNull();
        lookup.Ambiguous.Select(c => c.Alias.Name).Order().ShouldBe(["reboot", "restart"]);
    }

    [Theory]
    [InlineData("leading spaces", "   deploy booking")]
    [InlineData("a unit separator, whitespace to the alias parser", "deploy\u001fbooking")]
    public void Match_FirstWordNormalisedLikeTheParser_FindsTheBucket(string row, string text)
    {
        var index = Index(("deploy", [@"deploy\s{{ app }}"]));

        index.Match(text).Best.ShouldNotBeNull(row).Alias.Name.ShouldBe("deploy", row);
    }

    [Fact]
    public void Match_CaseInsensitiveFormat_MatchesOtherCase()
    {
        var index = Index(("deploy", ["(?i)deploy {{ app }}"]));

        index.Match("DEPLOY booking").Best.ShouldNotBeNull().Alias.Name.ShouldBe("deploy");
    }

    [Fact]
    public void Match_FormatStartingWithAParameter_IsStillTried()
    {
        var index = Index(("any", ["{{ host }} status"]));

        index.Match("web01 status").Best!.Alias.Name.ShouldBe("any");
    }

    [Fact]
    public void Suggest_CloseFirstWord_OffersTheAlias()
    {
        var index = Index(("deploy", ["deploy {{ app }}"]));

        index.Suggest("depoly booking").ShouldHaveSingleItem().Alias.Name.ShouldBe("deploy");
    }
}

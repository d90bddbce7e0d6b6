using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Aliases;

public sealed class AliasFormatHostileTests
{
    /// <summary>Bounds a test that could hang (a failure, not a timing goal).</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    [Theory]
    [MemberData(nameof(AliasCases.Hostile), MemberType = typeof(AliasCases))]
    public void Match_HostileText_ExtractsWhatStackStormExtracts(string format, string text, string[]? expected)
    {
        var match = AliasFormat.Parse(format).Match(text);

        AliasFormatMatchTests.ShouldHaveExtracted(match, expected, format, text);
    }

    [Fact]
    public async Task Match_TenKilobyteText_LastParameterTakesAllOfIt()
    {
        var rest = string.Concat(Enumerable.Repeat("lorem ipsum ", 900)).TrimEnd();

        var match = await Run(() => AliasFormat.Parse("run {{cmd}}").Match("run " + rest));

        match!.Parameters["cmd"].ShouldBe(rest);
    }

    [Fact]
    public async Task Match_TenKilobyteUnicodeText_ValuesKeepEveryCharacter()
    {
        var rest = string.Concat(Enumerable.Repeat("部署 生产 ", 1700)).TrimEnd();

        var match = await Run(() => AliasFormat.Parse("部署 {{app}} 到 {{env=生产}}").Match("部署 " + rest + " 到"));

        match!.Parameters["app"].ShouldBe(rest);
        match.Parameters["env"].ShouldBe("生产");
    }

    [Fact]
    public async Task Match_TenKilobyteTextWithoutTheLiteralWord_ReturnsNull()
    {
        var text = "deploy " + string.Concat(Enumerable.Repeat("lorem ipsum ", 900));

        var match = await Run(() => AliasFormat.Parse("deploy {{app}} to {{env}}").Match(text));

        match.ShouldBeNull();
    }

    [Fact]
    public async Task Match_ThousandTrailingPairs_ReadsEveryOne()
    {
        var text = "foo" + string.Concat(Enumerable.Range(0, 1000).Select(i => $"  k{i}=\"v {i}\""));

        var match = await Run(() => AliasFormat.Parse("foo").Match(text));

        match!.ExtraParameters.Count.ShouldBe(1000);
        match.ExtraParameters["k999"].ShouldBe("v 999");
    }

    [Fact]
    public async Task Match_ManyPairsWithWideGapsThenAWord_IsNotExponential()
    {
        // StackStorm's backtracking pattern tries every way to split each gap: about 6^40 steps here.
        var pairs = string.Concat(Enumerable.Range(0, 40).Select(i => $"   k{i}=v"));

        var match = await Run(() => AliasFormat.Parse("foo {{rest}}").Match("foo" + pairs + " end"));

        match!.Parameters["rest"].ShouldBe(pairs[1..] + " end");
        match.ExtraParameters.ShouldBeEmpty();
    }

    [Fact]
    public void Match_LoneSurrogate_IsKeptInTheValue()
    {
        var match = AliasFormat.Parse("run {{cmd}}").Match("run \uD800x");

        match!.Parameters["cmd"].ShouldBe("\uD800x");
    }

    [Theory]
    // nested quantifiers: the classic
    [InlineData("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")]
    // overlapping alternatives
    [InlineData("(a|aa)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")]
    // words and optional spaces
    [InlineData("(\\w+\\s?)+$", "word word word word word word word word word word word word word word word word word word word word word word word word word!")]
    // two adjacent unbounded loops inside a loop
    [InlineData("(x+x+)+y", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    public async Task Match_CatastrophicFormat_EndsWithAClearTimeoutError(string format, string text)
    {
        var alias = AliasFormat.Parse(format, TimeSpan.FromMilliseconds(50));

        var ex = await Should.ThrowAsync<AliasMatchTimeoutException>(() => Run(() => alias.Match(text)));

        ex.Timeout.ShouldBe(TimeSpan.FromMilliseconds(50));
        ex.Message.ShouldContain(format);
        ex.Message.ShouldContain("backtracks catastrophically");
        ex.ShouldBeAssignableTo<AliasFormatException>();
    }

    [Fact]
    public async Task Match_ManyParametersAgainstALongTextThatDoesNotFit_EndsWithAClearTimeoutError()
    {
        var alias = AliasFormat.Parse("{{a}} {{b}} {{c}} {{d}} {{e}} end", TimeSpan.FromMilliseconds(50));
        var text = string.Join(' ', Enumerable.Range(0, 300).Select(i => "w" + i));

        await Should.ThrowAsync<AliasMatchTimeoutException>(() => Run(() => alias.Match(text)));
    }

    [Fact]
    public async Task MatchAll_CatastrophicFormat_EndsWithAClearTimeoutError()
    {
        var alias = AliasFormat.Parse("(?:\\b|^)(a+)+$", TimeSpan.FromMilliseconds(50));

        await Should.ThrowAsync<AliasMatchTimeoutException>(() => Run(() => alias.MatchAll(new string('a', 30) + "!")));
    }

    [Fact]
    public void Match_CatastrophicFormatOnABenignText_StillMatches()
    {
        AliasFormat.Parse("(a+)+\\s*$").Match("aaa").ShouldNotBeNull();
    }

    [Fact]
    public void Parse_TenKilobyteFormat_Compiles()
    {
        var words = Enumerable.Range(0, 1000).Select(i => $"w{i}").ToList();
        var format = string.Join(' ', words) + " {{last}}";

        var alias = AliasFormat.Parse(format);

        alias.Match(string.Join(' ', words) + " tail")!.Parameters["last"].ShouldBe("tail");
        alias.LeadingLiteral.ShouldBe(string.Join(' ', words));
    }

    private static async Task<T> Run<T>(Func<T> match) => await Task.Run(match).WaitAsync(HangGuard);
}

using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Fuzz;

/// <summary>
/// Alias formats come from pack authors and the lines they are matched against from anyone in a room: the parser
/// compiles or refuses with a positioned error, and matching answers, misses or times out cleanly, never hanging.
/// </summary>
public sealed class AliasFuzzTests
{
    private static readonly string[] Seeds =
    [
        "deploy {{ app }} to {{ env=staging }}",
        "deploy {{app}} {{version}} to {{target}}",
        "restart {{ service }} on {{ hosts=web01,web02 }}",
        "(?P<verb>start|stop) {{ service }}",
        "ping {{ host }}( {{ count=3 }})?",
        "run {{ cmd }}",
        "say {{ message }}",
        "silence {{ alert }} for {{ minutes=60 }} minutes",
        "scale [a-z]+ {{ n }}",
    ];

    private static readonly string[] Tokens =
    [
        "{{", "}}", " ", "=", "(", ")", "?", "*", "+", "|", "[", "]", "^", "$", "\\", "\\d", "\\w", "(?P<", ">", "(?P=",
        "(?:", "(?=", "(?!", "(?<=", "{2,}", "{", "}", ".", "app", "env", "a", "=staging", "'", "\"", "\\1", "(?i)", "#",
    ];

    private static readonly string[] Lines =
    [
        "deploy web to prod", "deploy web 1.2 to staging", "restart nginx on web01", "start api", "ping db1 5",
        "run rm -rf / ; echo", "say \"hello\" 'there'", "silence disk for 5 minutes", "scale web 3", "deploy",
    ];

    [Theory]
    [InlineData("mutations of valid formats", 11, true)]
    [InlineData("token soup", 12, false)]
    public void ParseAndMatch_AnyFormat_CompilesOrRefusesClearly_AndMatchingNeverHangs(string row, int seed, bool mutate)
    {
        var ran = Fuzzer.Run(seed, 3000,
            random =>
            {
                var format = mutate ? Fuzzer.Mutate(random, Seeds[random.Next(Seeds.Length)], Tokens) : Fuzzer.Soup(random, Tokens, 30);
                var line = random.Next(3) == 0
                    ? Fuzzer.Soup(random, [.. Lines, .. Tokens, "a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"], 20)
                    : Fuzzer.Mutate(random, Lines[random.Next(Lines.Length)], Tokens);
                return (Format: format, Line: line);
            },
            input =>
            {
                AliasFormat compiled;
                try
                {
                    compiled = AliasFormat.Parse(input.Format);
                }
                catch (AliasFormatException ex)
                {
                    Fuzzer.ShouldBeClear(ex.Message, row);
                    return;
                }

                try
                {
                    if (compiled.Match(input.Line) is { } match)
                    {
                        match.All.Keys.ShouldAllBe(k => k.Length > 0, row);
                    }

                    _ = compiled.MatchAll(input.Line);
                }
                catch (AliasMatchTimeoutException ex)
                {
                    // A pathological pattern on a hostile line: refused in bounded time, with a message.
                    Fuzzer.ShouldBeClear(ex.Message, row);
                }
            },
            input => $"format: {input.Format}\nline: {input.Line}");

        ran.ShouldBeGreaterThan(100, $"{row}: too few cases ran within the time budget to mean anything");
    }

    [Fact]
    public void Match_CatastrophicBacktracking_TimesOutWithAClearError()
    {
        var format = AliasFormat.Parse("check (a+)+$ {{ x }}", TimeSpan.FromMilliseconds(100));
        var hostile = "check " + new string('a', 40) + "!";

        var error = Should.Throw<AliasMatchTimeoutException>(() => format.Match(hostile));

        Fuzzer.ShouldBeClear(error.Message, "catastrophic backtracking");
    }
}

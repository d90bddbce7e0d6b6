using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Aliases;

/// <summary>
/// The router indexes formats by <see cref="AliasFormat.LeadingLiteral"/>; these tests hold the invariant it relies
/// on: whenever a format matches a text, the normalised text starts with the literal's whole words.
/// </summary>
public sealed class LeadingLiteralInvariantTests
{
    [Fact]
    public void LeadingLiteral_EveryMatchInTheCaseTables_NormalizedTextStartsWithItsWords()
    {
        var rows = AliasCases.StackStorm.Concat(AliasCases.Behaviour).Concat(AliasCases.Hostile).ToList();
        var withLiteral = 0;

        foreach (var row in rows)
        {
            var format = AliasFormat.Parse((string)row[0]);
            var text = (string)row[1];
            if (format.Match(text) is not null)
            {
                AliasText.StartsWithWords(AliasText.Normalize(text), format.LeadingLiteral)
                    .ShouldBeTrue($"format \"{format.Source}\" (literal \"{format.LeadingLiteral}\") matched \"{text}\"");
                withLiteral += format.LeadingLiteral.Length > 0 ? 1 : 0;
            }
        }

        withLiteral.ShouldBeGreaterThan(60, "the invariant must be exercised, not hold vacuously");
    }

    [Fact]
    public void LeadingLiteral_GeneratedFormatsAndTexts_NormalizedTextStartsWithItsWords()
    {
        // Formats built from words, parameters and regex pieces; texts built from the same words, other words,
        // quotes, pairs and odd whitespace. Seeded, so a failure reproduces.
        var random = new Random(20240611);
        string[] words = ["deploy", "to", "run", "on", "ack", "x", "web", "prod", "Deploy", "部署", "é"];
        string[] pieces = ["{{app}}", "{{ env }}", "{{env=staging}}", "{{q='a b'}}", "(?P<id>[A-Z]+-\\d+)", "(?:x|y)", "s?", "\\d+",
            "\\s+", "[a-c]+", "(foo|bar)", "$", "\\b", ".", "\\.", "(?i:web)", "(?:^|z)", "(?:z|^)", "|", "(?i)"];
        string[] junk = ["\"a b\"", "'c d'", "{\"k\": 1}", "a=1", "b=\"x y\"", "e=", "  ", "\t", "\u001f", "\u00a0", "ABC-12", "123", "'", "\""];
        var matches = 0;
        var withLiteral = 0;

        for (var i = 0; i < 4000; i++)
        {
            var formatParts = Enumerable.Range(0, random.Next(1, 6))
                .Select(_ => random.Next(2) == 0 ? words[random.Next(words.Length)] : pieces[random.Next(pieces.Length)]);
            AliasFormat format;
            try
            {
                format = AliasFormat.Parse(string.Join(random.Next(4) == 0 ? "" : " ", formatParts));
            }
            catch (AliasFormatException)
            {
                continue;
            }

            for (var j = 0; j < 4; j++)
            {
                var textParts = format.Source.Split(' ').Select(token => random.Next(10) switch
                {
                    < 5 => token.Contains('{', StringComparison.Ordinal) || token.Contains('\\', StringComparison.Ordinal) ? words[random.Next(words.Length)] : token,
                    < 8 => words[random.Next(words.Length)],
                    _ => junk[random.Next(junk.Length)],
                });
                var text = (random.Next(3) == 0 ? " " : "") + string.Join(random.Next(3) == 0 ? "  " : " ", textParts) + (random.Next(3) == 0 ? " a=1" : "");
                if (format.Match(text) is null)
                {
                    continue;
                }

                matches++;
                withLiteral += format.LeadingLiteral.Length > 0 ? 1 : 0;
                AliasText.StartsWithWords(AliasText.Normalize(text), format.LeadingLiteral)
                    .ShouldBeTrue($"format \"{format.Source}\" (literal \"{format.LeadingLiteral}\") matched \"{text}\"");
            }
        }

        matches.ShouldBeGreaterThan(1000);
        withLiteral.ShouldBeGreaterThan(300);
    }
}

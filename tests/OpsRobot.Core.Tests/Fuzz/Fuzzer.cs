using System.Diagnostics;
using System.Text;

namespace OpsRobot.Core.Tests.Fuzz;

/// <summary>
/// A small deterministic fuzzer: cases come from a seeded <see cref="Random"/> (the same seed, the same cases, so a
/// failure reproduces), each case runs under its own time limit, and a run stops after a count or a time budget,
/// whichever comes first, so the suite stays bounded on a loaded machine.
/// </summary>
internal static class Fuzzer
{
    /// <summary>How long one case may take before it counts as a hang. Generous: the machine running the tests is shared.</summary>
    public static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(10);

    /// <summary>How long one fuzz run may take in all; the count is cut short on a slow machine rather than the test timing out.</summary>
    public static readonly TimeSpan RunBudget = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Runs <paramref name="check"/> on up to <paramref name="count"/> inputs from <paramref name="generate"/>.
    /// <paramref name="check"/> throws (an assertion) when the outcome is wrong. Returns how many cases ran.
    /// </summary>
    public static int Run<T>(int seed, int count, Func<Random, T> generate, Action<T> check, Func<T, string> show)
    {
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        var ran = 0;
        for (; ran < count && clock.Elapsed < RunBudget; ran++)
        {
            var input = generate(random);
            var task = Task.Run(() => check(input));
            bool finished;
            try
            {
                finished = task.Wait(CaseLimit);
            }
            catch (AggregateException ex)
            {
                throw new ShouldAssertException($"Case {ran} (seed {seed}) failed on input:\n{Describe(show(input))}\n{ex.InnerException}", ex.InnerException);
            }

            if (!finished)
            {
                throw new ShouldAssertException($"Case {ran} (seed {seed}) did not finish within {CaseLimit.TotalSeconds} s (a hang) on input:\n{Describe(show(input))}");
            }
        }

        return ran;
    }

    /// <summary>A message an operator can read: said in words, not a stack trace or a runtime type name.</summary>
    public static void ShouldBeClear(string? message, string what)
    {
        message.ShouldNotBeNullOrWhiteSpace($"{what}: an empty error message");
        message.ShouldNotContain("   at ", Case.Sensitive, $"{what}: a stack trace in the message: {message}");
        message.ShouldNotContain("Exception", Case.Sensitive, $"{what}: a runtime type name in the message: {message}");
        message.ShouldNotContain("Object reference", Case.Sensitive, $"{what}: a null dereference leaked: {message}");
    }

    /// <summary>Random edits of a valid seed text: the inputs that are almost right find the most bugs.</summary>
    public static string Mutate(Random random, string text, IReadOnlyList<string> tokens)
    {
        var sb = new StringBuilder(text);
        var edits = random.Next(1, 6);
        for (var i = 0; i < edits; i++)
        {
            var at = sb.Length == 0 ? 0 : random.Next(sb.Length + 1);
            switch (random.Next(5))
            {
                case 0 when sb.Length > 0:
                    sb.Remove(Math.Min(at, sb.Length - 1), Math.Min(random.Next(1, 8), sb.Length - Math.Min(at, sb.Length - 1)));
                    break;
                case 1:
                    sb.Insert(at, tokens[random.Next(tokens.Count)]);
                    break;
                case 2:
                    sb.Insert(at, RandomChar(random));
                    break;
                case 3 when sb.Length > 0:
                    var from = random.Next(sb.Length);
                    var length = Math.Min(random.Next(1, 16), sb.Length - from);
                    sb.Insert(at, sb.ToString(from, length));
                    break;
                default:
                    sb.Insert(at, tokens[random.Next(tokens.Count)] + tokens[random.Next(tokens.Count)]);
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>Text made only of the language's own tokens, glued at random.</summary>
    public static string Soup(Random random, IReadOnlyList<string> tokens, int maxTokens)
    {
        var sb = new StringBuilder();
        var n = random.Next(1, maxTokens);
        for (var i = 0; i < n; i++)
        {
            sb.Append(random.Next(8) == 0 ? RandomChar(random) : tokens[random.Next(tokens.Count)]);
        }

        return sb.ToString();
    }

    /// <summary>Any character a stranger could send: ASCII, controls, accents, astral planes, lone surrogates.</summary>
    public static string RandomChar(Random random) => random.Next(10) switch
    {
        0 => ((char)random.Next(0, 32)).ToString(),
        1 => ((char)random.Next(0xD800, 0xE000)).ToString(), // a lone surrogate: not valid UTF-16
        2 => char.ConvertFromUtf32(random.Next(0x1F300, 0x1F600)),
        3 => ((char)random.Next(0xA0, 0x2FFF)).ToString(),
        _ => ((char)random.Next(32, 127)).ToString(),
    };

    private static string Describe(string input) => input.Length > 2000
        ? input[..2000] + $"… ({input.Length:N0} characters)"
        : input;
}

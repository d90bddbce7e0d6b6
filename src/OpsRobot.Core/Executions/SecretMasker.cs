using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;

namespace OpsRobot.Core.Executions;

/// <summary>
/// Replaces known secret values with <see cref="SecretMask.Mask"/> wherever they occur: inside any string, walking
/// JSON values (object keys included) to any depth. This is how a secret that reached an execution by another road
/// than its own <c>secret: true</c> parameters (a datastore secret a rule rendered into a parameter, a workflow's
/// secret input passed on to a step, an action printing its own secret) is kept out of what is stored and shown.
/// </summary>
/// <remarks>
/// Values shorter than <see cref="MinimumLength"/> characters are not looked for inside text. Masking "on" or "42"
/// would turn every such run of letters in a log into asterisks, and the pattern of what was replaced would tell a
/// reader the secret anyway; a secret that short can be guessed in moments regardless. Azure Pipelines, Ansible and
/// the Google GitHub Actions draw the line at the same place. (An action's own secret parameters are still masked
/// whole in its stored parameters, whatever their length: that is by name, not by value.) Where occurrences of two
/// secrets overlap, the whole stretch they cover becomes one mask, so no part of either shows.
/// </remarks>
public sealed class SecretMasker
{
    /// <summary>The shortest secret value that is looked for inside text.</summary>
    public const int MinimumLength = 4;

    private readonly string[] _secrets;

    /// <summary>A masker for <paramref name="secrets"/>; empty, too short and repeated values are dropped.</summary>
    public SecretMasker(IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _secrets = [.. secrets.Where(s => s is not null && s.Length >= MinimumLength).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
        Longest = _secrets.Length == 0 ? 0 : _secrets[0].Length;
    }

    /// <summary>A masker that masks nothing.</summary>
    public static SecretMasker None { get; } = new([]);

    /// <summary>The values it masks (each at least <see cref="MinimumLength"/> characters), longest first.</summary>
    public IReadOnlyList<string> Secrets => _secrets;

    /// <summary>Whether it has nothing to mask.</summary>
    public bool IsEmpty => _secrets.Length == 0;

    /// <summary>The length of the longest secret, 0 when there is none.</summary>
    public int Longest { get; }

    /// <summary>A masker for these secrets and <paramref name="more"/>.</summary>
    public SecretMasker With(IEnumerable<string> more)
    {
        ArgumentNullException.ThrowIfNull(more);
        var added = more.Where(s => s is not null && s.Length >= MinimumLength).ToList();
        return added.Count == 0 ? this : new SecretMasker(_secrets.Concat(added));
    }

    /// <summary>
    /// The values of a secret to look for in text: every string in <paramref name="value"/> (to any depth) and the
    /// text of every number, as a parameter's value reaches a process as text.
    /// </summary>
    public static IEnumerable<string> ValuesOf(JsonNode? value)
    {
        switch (value)
        {
            case JsonObject o:
                foreach (var (_, v) in o)
                {
                    foreach (var s in ValuesOf(v))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonArray a:
                foreach (var v in a)
                {
                    foreach (var s in ValuesOf(v))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                yield return v.GetValue<string>();
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                yield return v.ToJsonString();
                break;
        }
    }

    /// <summary>The text with every occurrence of every secret replaced by the mask.</summary>
    public string Mask(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_secrets.Length == 0 || text.Length < MinimumLength)
        {
            return text;
        }

        var covered = Cover(text);
        return covered.Count == 0 ? text : Replace(text, covered, text.Length);
    }

    /// <summary>A copy of <paramref name="node"/> with every secret masked in its strings, numbers and keys.</summary>
    public JsonNode? Mask(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                return Mask(o);
            case JsonArray a:
                return new JsonArray([.. a.Select(Mask)]);
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                var text = v.GetValue<string>();
                var masked = Mask(text);
                return ReferenceEquals(masked, text) ? v.DeepClone() : JsonValue.Create(masked);
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                // A secret rendered into a numeric parameter became a number; shown as text, masked.
                var digits = v.ToJsonString();
                var maskedDigits = Mask(digits);
                return ReferenceEquals(maskedDigits, digits) ? v.DeepClone() : JsonValue.Create(maskedDigits);
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>A copy of <paramref name="value"/> with every secret masked in its values and keys.</summary>
    public JsonObject Mask(JsonObject value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var copy = new JsonObject();
        foreach (var (key, item) in value)
        {
            var name = Mask(key);
            // Two keys that differ only in their secrets would collide once masked; each keeps a place of its own.
            for (var n = 2; copy.ContainsKey(name); n++)
            {
                name = Mask(key) + "#" + n.ToString(CultureInfo.InvariantCulture);
            }

            copy[name] = Mask(item);
        }

        return copy;
    }

    /// <summary>
    /// Parameters as recorded: <paramref name="action"/>'s secret parameters masked whole (whatever their length), and
    /// every secret value masked wherever it occurs in the others.
    /// </summary>
    public JsonObject MaskParameters(JsonObject parameters, ActionDefinition? action)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var masked = new JsonObject();
        foreach (var (name, value) in parameters)
        {
            var secret = action?.Parameters.Any(p => p.Secret && p.Name == name) ?? false;
            masked[name] = secret && value is not null ? SecretMask.Mask : Mask(value);
        }

        return masked;
    }

    /// <summary>A masker for text that arrives in pieces (a run's output), where a secret may be split between two.</summary>
    public StreamMasker Stream() => new(this);

    /// <summary>The stretches of <paramref name="text"/> that secrets cover, merged, in order.</summary>
    private List<(int Start, int End)> Cover(string text)
    {
        var length = text.Length;
        var found = new List<(int Start, int End)>();
        var span = text.AsSpan();
        foreach (var secret in _secrets)
        {
            var from = 0;
            while (from <= length - secret.Length)
            {
                var at = span[from..].IndexOf(secret, StringComparison.Ordinal);
                if (at < 0)
                {
                    break;
                }

                found.Add((from + at, from + at + secret.Length));
                // Overlapping occurrences count too ("aaaa" in "aaaaa"): the union is masked.
                from += at + 1;
            }
        }

        if (found.Count <= 1)
        {
            return found;
        }

        found.Sort((x, y) => x.Start.CompareTo(y.Start));
        var merged = new List<(int Start, int End)> { found[0] };
        foreach (var (start, end) in found.Skip(1))
        {
            var last = merged[^1];
            if (start < last.End)
            {
                merged[^1] = (last.Start, Math.Max(last.End, end));
            }
            else
            {
                merged.Add((start, end));
            }
        }

        return merged;
    }

    private static string Replace(string text, List<(int Start, int End)> covered, int length)
    {
        var builder = new StringBuilder(length);
        var at = 0;
        foreach (var (start, end) in covered)
        {
            builder.Append(text, at, start - at).Append(SecretMask.Mask);
            at = end;
        }

        return builder.Append(text, at, length - at).ToString();
    }

    /// <summary>
    /// Masks text that arrives in pieces, one stream at a time. Each piece is masked and passed on at once, except an
    /// ending that could be the start of a secret (never as long as the longest secret): that is kept back until the
    /// next piece shows whether it is, or until <see cref="Flush"/> at the end. Not thread-safe: one writer per stream.
    /// </summary>
    public sealed class StreamMasker
    {
        private readonly SecretMasker _masker;
        private string _held = string.Empty;

        internal StreamMasker(SecretMasker masker) => _masker = masker;

        /// <summary>What of the text so far can be passed on, masked; empty when all of it is kept back for now.</summary>
        public string Push(string text)
        {
            ArgumentNullException.ThrowIfNull(text);
            if (_masker.IsEmpty)
            {
                return text;
            }

            var buffer = _held.Length == 0 ? text : _held + text;
            var covered = _masker.Cover(buffer);
            var cut = HoldFrom(buffer);

            // A complete occurrence across the cut: keep it back whole when it starts after the part kept back last
            // time (a second secret overlapping it may still be arriving), else pass it on masked.
            foreach (var (start, end) in covered)
            {
                if (start < cut && end > cut)
                {
                    cut = start > 0 ? start : end;
                    break;
                }
            }

            _held = buffer[cut..];
            if (cut == 0)
            {
                return string.Empty;
            }

            var passed = covered.Where(c => c.End <= cut).ToList();
            return passed.Count == 0 ? buffer[..cut] : Replace(buffer, passed, cut);
        }

        /// <summary>The text kept back, masked; the stream has ended.</summary>
        public string Flush()
        {
            var rest = _masker.Mask(_held);
            _held = string.Empty;
            return rest;
        }

        /// <summary>Where the ending that could still become a secret starts (the buffer's length when there is none).</summary>
        private int HoldFrom(string buffer)
        {
            var span = buffer.AsSpan();
            for (var at = Math.Max(0, buffer.Length - _masker.Longest + 1); at < buffer.Length; at++)
            {
                var ending = span[at..];
                foreach (var secret in _masker._secrets)
                {
                    if (secret.Length > ending.Length && secret.AsSpan().StartsWith(ending, StringComparison.Ordinal))
                    {
                        return at;
                    }
                }
            }

            return buffer.Length;
        }
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OpsRobot.Core.Audit;

/// <summary>
/// Appends to the audit trail. A call returns once its record is stored: an action that needs auditing is only
/// taken after its record exists. The record is handed to the store at once, in the order of the calls, and the
/// store writes records that arrive together in one transaction (group commit), each chained to the one before by
/// <see cref="AuditChain"/>.
/// </summary>
public sealed partial class AuditLog(IAuditStore store, TimeProvider time)
{
    /// <summary>
    /// Stores one record and returns it as stored. The record is queued to the store before this returns (even
    /// when the caller does not wait), so a later write queued to the same store is never stored before it.
    /// </summary>
    public async Task<AuditRecord> WriteAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var stored = await store.AppendAsync([(time.GetUtcNow(), entry, Canonical(entry.Detail))], AuditChain.Hash, cancellationToken).ConfigureAwait(false);
        return stored[0];
    }

    public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken) => store.QueryAsync(query, cancellationToken);

    /// <summary>JSON with keys in order, so the same detail always hashes the same.</summary>
    public static string Canonical(JsonNode? node)
    {
        if (node is null)
        {
            return "{}";
        }

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, node);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    Write(writer, value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    /// <summary>
    /// Masks what looks like a secret in free text (<c>password=…</c>, <c>token: …</c>, <c>Bearer …</c>,
    /// OpsRobot API keys), for command lines kept in the audit.
    /// </summary>
    public static string MaskSecrets(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // Each pattern needs a character or word that most command lines lack: look for it before running the pattern.
        var masked = text.AsSpan().IndexOfAny('=', ':') >= 0
            ? SecretPairPattern().Replace(text, m => m.Groups["key"].Value + m.Groups["sep"].Value + "********")
            : text;
        if (masked.Contains("bearer", StringComparison.OrdinalIgnoreCase))
        {
            masked = BearerPattern().Replace(masked, "Bearer ********");
        }

        return masked.Contains("opsr_", StringComparison.Ordinal) ? ApiKeyPattern().Replace(masked, "opsr_********") : masked;
    }

    [GeneratedRegex(@"(?<key>\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|credential)s?)(?<sep>\s*[=:]\s*)(?<value>""[^""]*""|'[^']*'|[^\s'""]+)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex SecretPairPattern();

    [GeneratedRegex(@"\bBearer\s+[^\s'""]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex BearerPattern();

    [GeneratedRegex(@"\bopsr_[A-Za-z0-9_-]{8,}", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex ApiKeyPattern();
}

/// <summary>The hash chain: each record's hash covers the previous hash and every field of the record.</summary>
public static class AuditChain
{
    /// <summary>The previous hash of the first record.</summary>
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>SHA-256 over the previous hash and the record's fields, each length-prefixed so no two records read alike.</summary>
    public static string Hash(string previousHash, AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(previousHash);
        ArgumentNullException.ThrowIfNull(record);
        var sb = new StringBuilder(256);
        Field(sb, previousHash);
        Field(sb, record.Id.ToString(CultureInfo.InvariantCulture));
        Field(sb, record.At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        Field(sb, record.Kind);
        Field(sb, record.Actor);
        Field(sb, record.Door);
        Field(sb, record.Place);
        Field(sb, record.Subject);
        Field(sb, record.Decision);
        Field(sb, record.Rule);
        Field(sb, record.Detail);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>Checks records in id order; returns the first that does not fit the chain, with why, or null.</summary>
    public static (AuditRecord Record, string Problem)? FirstBroken(IEnumerable<AuditRecord> records, string previousHash, long previousId)
    {
        ArgumentNullException.ThrowIfNull(records);
        var prev = previousHash;
        var prevId = previousId;
        foreach (var r in records)
        {
            if (r.Id != prevId + 1)
            {
                return (r, string.Create(CultureInfo.InvariantCulture, $"records {prevId + 1}–{r.Id - 1} are missing"));
            }

            if (!string.Equals(r.PreviousHash, prev, StringComparison.Ordinal))
            {
                return (r, "its link to the record before does not match (a record before it was changed, removed or inserted)");
            }

            if (!string.Equals(Hash(prev, r), r.Hash, StringComparison.Ordinal))
            {
                return (r, "its content does not match its hash (the record was changed)");
            }

            prev = r.Hash;
            prevId = r.Id;
        }

        return null;
    }

    private static void Field(StringBuilder sb, string? value)
    {
        if (value is null)
        {
            sb.Append("-1:");
            return;
        }

        sb.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append('|');
    }
}

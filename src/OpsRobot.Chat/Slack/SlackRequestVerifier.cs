using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OpsRobot.Chat.Slack;

/// <summary>The verdict on a request that claims to come from Slack.</summary>
public enum SlackSignatureVerdict
{
    Valid,
    Missing,
    Stale,
    Mismatch,
}

/// <summary>
/// Slack's request signing (v0): <c>X-Slack-Signature</c> is <c>v0=</c> plus the hex HMAC-SHA256, keyed with the
/// app's signing secret, of <c>v0:{X-Slack-Request-Timestamp}:{raw body}</c>. Requests older or newer than five
/// minutes are refused, so a captured request cannot be replayed later. The comparison takes constant time.
/// </summary>
public sealed class SlackRequestVerifier(string signingSecret, TimeProvider time)
{
    /// <summary>How far a request's timestamp may be from now.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    public SlackSignatureVerdict Verify(string? timestamp, string? signature, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature) || string.IsNullOrEmpty(signingSecret))
        {
            return SlackSignatureVerdict.Missing;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 1e11)
        {
            return SlackSignatureVerdict.Mismatch;
        }

        var age = time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age.Duration() > Window)
        {
            return SlackSignatureVerdict.Stale;
        }

        var expected = Sign(signingSecret, timestamp, body);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature))
            ? SlackSignatureVerdict.Valid
            : SlackSignatureVerdict.Mismatch;
    }

    /// <summary>The <c>X-Slack-Signature</c> value for a request (what Slack computes, and what tests send).</summary>
    public static string Sign(string signingSecret, string timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(signingSecret);
        ArgumentNullException.ThrowIfNull(timestamp);
        var prefix = Encoding.UTF8.GetBytes($"v0:{timestamp}:");
        var data = new byte[prefix.Length + body.Length];
        prefix.CopyTo(data, 0);
        body.CopyTo(data.AsSpan(prefix.Length));
        return "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret), data));
    }
}

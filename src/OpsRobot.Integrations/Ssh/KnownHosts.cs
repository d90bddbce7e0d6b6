using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace OpsRobot.Integrations.Ssh;

/// <summary>One host key line of a known-hosts file: the names it covers, the key type and the key.</summary>
public sealed record KnownHostKey(string Host, string KeyType, string KeyBase64)
{
    /// <summary>OpenSSH's SHA-256 fingerprint (<c>SHA256:…</c>, as <c>ssh-keygen -l</c> and the client print it).</summary>
    public string Fingerprint => KnownHosts.Fingerprint(KeyBase64);

    public string ToLine() => $"{Host} {KeyType} {KeyBase64}";
}

/// <summary>
/// OpsRobot's known-hosts file. OpenSSH reads it (<c>UserKnownHostsFile</c>, with <c>HostKeyAlias</c> set to the
/// CMDB host name, so a host keeps its key whatever address it is reached by); only <see cref="SshTrustRunner"/> writes
/// it, whole and atomically. Lines are <c>hostname keytype key</c>: no hashing, so an operator can read and audit
/// it.
/// </summary>
public static partial class KnownHosts
{
    /// <summary>The SHA-256 fingerprint of a base64 public key blob, as OpenSSH prints it.</summary>
    public static string Fingerprint(string keyBase64)
    {
        ArgumentNullException.ThrowIfNull(keyBase64);
        var hash = SHA256.HashData(Convert.FromBase64String(keyBase64));
        return "SHA256:" + Convert.ToBase64String(hash).TrimEnd('=');
    }

    /// <summary>The keys listed for <paramref name="host"/> (an exact name among a line's comma-separated names).</summary>
    public static IReadOnlyList<KnownHostKey> For(IEnumerable<KnownHostKey> keys, string host) =>
        [.. keys.Where(k => k.Host.Split(',').Contains(host, StringComparer.Ordinal))];

    /// <summary>Reads the file; a missing file has no keys. Comments, blank and malformed lines are skipped.</summary>
    public static async Task<IReadOnlyList<KnownHostKey>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return Parse(text);
    }

    /// <summary>Parses known-hosts text (or <c>ssh-keyscan</c> output, which has the same shape).</summary>
    public static IReadOnlyList<KnownHostKey> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var keys = new List<KnownHostKey>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || line[0] == '@')
            {
                continue;
            }

            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 3 || !KeyTypePattern().IsMatch(fields[1]) || !IsBase64(fields[2]))
            {
                continue;
            }

            keys.Add(new KnownHostKey(fields[0], fields[1], fields[2]));
        }

        return keys;
    }

    /// <summary>
    /// Replaces every line for <paramref name="host"/> with <paramref name="keys"/> and writes the file through a
    /// temporary file and a rename, so OpenSSH never reads half a file.
    /// </summary>
    public static async Task ReplaceAsync(string path, string host, IReadOnlyList<KnownHostKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var lines = new List<string>();
        if (File.Exists(path))
        {
            foreach (var line in await File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false))
            {
                var fields = line.Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 0 && fields[0].Split(',').Contains(host, StringComparer.Ordinal))
                {
                    continue;
                }

                lines.Add(line);
            }
        }

        lines.AddRange(keys.Select(k => new KnownHostKey(host, k.KeyType, k.KeyBase64).ToLine()));
        var temporary = Path.Combine(folder, $".known_hosts.{Guid.NewGuid():N}.tmp");
        var content = new StringBuilder();
        foreach (var line in lines)
        {
            content.Append(line).Append('\n');
        }

        await File.WriteAllTextAsync(temporary, content.ToString(), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    private static bool IsBase64(string text) => text.Length is > 0 and < 16384 && Base64Pattern().IsMatch(text) && IsDecodable(text);

    private static bool IsDecodable(string text)
    {
        try
        {
            _ = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    [GeneratedRegex("^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+)$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 100)]
    private static partial Regex KeyTypePattern();

    [GeneratedRegex("^[A-Za-z0-9+/]+={0,2}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Base64Pattern();
}

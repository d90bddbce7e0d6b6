using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using OpsRobot.Core.Access;

namespace OpsRobot.Core.Cmdb;

/// <summary>The statuses a host may have; a fixed set, so queries and reports mean the same everywhere.</summary>
public static class HostStatuses
{
    public const string Active = "active";
    public const string Maintenance = "maintenance";
    public const string Provisioning = "provisioning";
    public const string Retired = "retired";

    public static IReadOnlyList<string> All { get; } = [Active, Maintenance, Provisioning, Retired];

    public static bool IsKnown(string? status) => status is not null && All.Contains(status, StringComparer.Ordinal);
}

/// <summary>
/// What a host record must look like before it is stored: host names per RFC 1123, addresses that parse, an
/// application that is a node of the tree, a status from <see cref="HostStatuses"/>, attribute keys that are safe as
/// template variables and CSV column names. <see cref="Normalize"/> returns the canonical form (lower case, tags
/// sorted, duplicates dropped), so the same host written twice compares equal.
/// </summary>
public static partial class HostRules
{
    public const int MaxAddresses = 16;
    public const int MaxTags = 32;
    public const int MaxAttributes = 64;
    public const int MaxAttributeValue = 1024;
    public const int MaxOwner = 128;

    public const string HostnameRule = "letters, digits and '-' in dot-separated labels of at most 63 characters (RFC 1123), at most 253 in all, no leading or trailing '-'";
    public const string AttributeKeyRule = "a lowercase letter, then up to 63 lowercase letters, digits, '_', '-' or '.'";
    public const string TagRule = "a lowercase letter or digit, then up to 62 lowercase letters, digits, '_', '-', '.' or ':'";
    public const string EnvironmentRule = "a lowercase letter, then up to 31 lowercase letters, digits, '_' or '-'";

    /// <summary>The host name in canonical form (lower case), or null when it is not an RFC 1123 host name.</summary>
    public static string? CanonicalHostname(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 253)
        {
            return null;
        }

        foreach (var c in name)
        {
            if (c > 0x7F)
            {
                return null;
            }
        }

        var lower = name.ToLowerInvariant();
        foreach (var label in lower.Split('.'))
        {
            if (!LabelPattern().IsMatch(label))
            {
                return null;
            }
        }

        return lower;
    }

    /// <summary>
    /// Checks <paramref name="host"/> against the rules and the tree. Returns the canonical record, or the list of
    /// problems (one sentence each, naming the field).
    /// </summary>
    public static (HostRecord? Host, IReadOnlyList<string> Problems) Normalize(HostRecord host, ApplicationTree tree)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(tree);
        var problems = new List<string>();

        var hostname = CanonicalHostname(host.Hostname?.Trim());
        if (hostname is null)
        {
            problems.Add(string.IsNullOrWhiteSpace(host.Hostname)
                ? "hostname is missing"
                : $"hostname '{Shown(host.Hostname)}' is not a valid host name: {HostnameRule}");
        }

        var addresses = new List<string>();
        foreach (var raw in host.Addresses ?? [])
        {
            var text = raw?.Trim() ?? string.Empty;
            if (text.Length == 0)
            {
                continue;
            }

            if (CanonicalAddress(text) is { } address)
            {
                if (!addresses.Contains(address, StringComparer.Ordinal))
                {
                    addresses.Add(address);
                }
            }
            else
            {
                problems.Add($"address '{Shown(text)}' is neither an IP address nor a host name");
            }
        }

        if (addresses.Count > MaxAddresses)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"a host has at most {MaxAddresses} addresses"));
        }

        var environment = Blank(host.Environment)?.ToLowerInvariant();
        if (environment is not null && !EnvironmentPattern().IsMatch(environment))
        {
            problems.Add($"environment '{Shown(environment)}' is not valid: {EnvironmentRule}");
        }

        var application = Blank(host.Application);
        if (application is not null)
        {
            application = application.TrimStart('/');
            if (!tree.Contains(application))
            {
                problems.Add($"application '{Shown(host.Application!)}' is not a node of the application tree");
            }
        }

        var tags = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var raw in host.Tags ?? [])
        {
            var tag = raw?.Trim().ToLowerInvariant() ?? string.Empty;
            if (tag.Length == 0)
            {
                continue;
            }

            if (TagPattern().IsMatch(tag))
            {
                tags.Add(tag);
            }
            else
            {
                problems.Add($"tag '{Shown(tag)}' is not valid: {TagRule}");
            }
        }

        if (tags.Count > MaxTags)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"a host has at most {MaxTags} tags"));
        }

        var owner = Blank(host.Owner);
        if (owner is not null && (owner.Length > MaxOwner || owner.Any(char.IsControl)))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"owner is longer than {MaxOwner} characters or holds control characters"));
        }

        var status = Blank(host.Status)?.ToLowerInvariant() ?? HostStatuses.Active;
        if (!HostStatuses.IsKnown(status))
        {
            problems.Add($"status '{Shown(status)}' is not one of {string.Join(", ", HostStatuses.All)}");
        }

        var attributes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (rawKey, rawValue) in host.Attributes ?? new Dictionary<string, string>(StringComparer.Ordinal))
        {
            var key = rawKey?.Trim() ?? string.Empty;
            if (!AttributeKeyPattern().IsMatch(key))
            {
                problems.Add($"attribute name '{Shown(key)}' is not valid: {AttributeKeyRule}");
                continue;
            }

            var value = rawValue ?? string.Empty;
            if (value.Length > MaxAttributeValue || value.Any(char.IsControl))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"attribute '{key}' is longer than {MaxAttributeValue} characters or holds control characters"));
                continue;
            }

            if (value.Length > 0)
            {
                attributes[key] = value;
            }
        }

        if (attributes.Count > MaxAttributes)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"a host has at most {MaxAttributes} attributes"));
        }

        if (problems.Count > 0)
        {
            return (null, problems);
        }

        return (new HostRecord(hostname!, addresses, environment, application, [.. tags], owner, status, attributes), problems);
    }

    /// <summary>An IP address in its canonical text form, or a host name in lower case; null when it is neither.</summary>
    public static string? CanonicalAddress(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // IPAddress.TryParse also accepts "1" or "0x7f.1" as IPv4; an address someone wrote in a CMDB is dotted
        // quad or IPv6, so anything else falls through to the host-name rules (where "1" is a valid label).
        if ((text.Contains(':', StringComparison.Ordinal) || DottedQuadPattern().IsMatch(text)) && IPAddress.TryParse(text, out var ip))
        {
            return ip.ToString();
        }

        if (text.Contains(':', StringComparison.Ordinal) || DottedQuadPattern().IsMatch(text))
        {
            return null;
        }

        return CanonicalHostname(text);
    }

    /// <summary>True when <paramref name="host"/> meets every condition of <paramref name="query"/>.</summary>
    public static bool Matches(HostRecord host, HostQuery query)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(query);
        if (Blank(query.Name) is { } name && !Wildcard.IsMatch(name.ToLowerInvariant(), host.Hostname))
        {
            return false;
        }

        if (Blank(query.Application) is { } app)
        {
            app = app.Trim('/');
            if (host.Application is not { } hostApp
                || !(string.Equals(hostApp, app, StringComparison.Ordinal) || hostApp.StartsWith(app + "/", StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return (Blank(query.Environment) is not { } env || string.Equals(env, host.Environment, StringComparison.OrdinalIgnoreCase))
            && (Blank(query.Status) is not { } status || string.Equals(status, host.Status, StringComparison.OrdinalIgnoreCase))
            && (Blank(query.Owner) is not { } owner || string.Equals(owner, host.Owner, StringComparison.OrdinalIgnoreCase))
            && (query.Tags is not { Count: > 0 } tags || tags.All(t => host.Tags.Contains(t.Trim(), StringComparer.OrdinalIgnoreCase)));
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    /// <summary>A value for an error message: cut, and with control characters made visible.</summary>
    private static string Shown(string text)
    {
        var cut = text.Length > 80 ? text[..80] + "…" : text;
        return string.Concat(cut.Select(c => char.IsControl(c) ? '?' : c));
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 100)]
    private static partial Regex LabelPattern();

    [GeneratedRegex(@"^\d{1,3}(\.\d{1,3}){3}$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 100)]
    private static partial Regex DottedQuadPattern();

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex EnvironmentPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9_.:-]{0,62}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[a-z][a-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex AttributeKeyPattern();
}

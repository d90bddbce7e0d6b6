using System.Globalization;
using System.Text.Json.Nodes;

namespace OpsRobot.Integrations.Ssh;

/// <summary>How one host's run ended.</summary>
public enum SshHostStatus
{
    /// <summary>The command ran and exited 0.</summary>
    Ok,

    /// <summary>The command ran and exited with another code.</summary>
    Failed,

    /// <summary>No connection: refused, no route, name not resolved, or OpenSSH's connect timeout.</summary>
    Unreachable,

    /// <summary>The host did not finish within the per-host timeout; the connection was cut.</summary>
    Timeout,

    /// <summary>The host offered a key other than the one trusted for it: possibly someone in the middle.</summary>
    HostKeyMismatch,

    /// <summary>No key is trusted for the host yet (an administrator runs <c>ssh.trust</c> first).</summary>
    HostKeyUnknown,

    /// <summary>The host refused the key.</summary>
    AuthFailed,

    /// <summary>The requester has no rights on the host's application node.</summary>
    NotPermitted,

    /// <summary>The CMDB does not know the host.</summary>
    UnknownHost,

    /// <summary>The host's CMDB record cannot be used (no address, a bad port or user).</summary>
    Invalid,

    /// <summary>The execution was canceled before or while the host ran.</summary>
    Canceled,
}

/// <summary>One host's outcome.</summary>
public sealed record SshHostResult(string Hostname, SshHostStatus Status)
{
    public string? Address { get; init; }

    public int? ExitCode { get; init; }

    public string Stdout { get; init; } = string.Empty;

    public string Stderr { get; init; } = string.Empty;

    public TimeSpan Duration { get; init; }

    /// <summary>Why it did not succeed, for people (a refusal's reason, a changed key's fingerprint).</summary>
    public string? Error { get; init; }

    /// <summary>The wire name of the status (<c>ok</c>, <c>host_key_mismatch</c>, …).</summary>
    public string StatusName => Wire(Status);

    public static string Wire(SshHostStatus status) => status switch
    {
        SshHostStatus.Ok => "ok",
        SshHostStatus.Failed => "failed",
        SshHostStatus.Unreachable => "unreachable",
        SshHostStatus.Timeout => "timeout",
        SshHostStatus.HostKeyMismatch => "host_key_mismatch",
        SshHostStatus.HostKeyUnknown => "host_key_unknown",
        SshHostStatus.AuthFailed => "auth_failed",
        SshHostStatus.NotPermitted => "not_permitted",
        SshHostStatus.UnknownHost => "unknown_host",
        SshHostStatus.Invalid => "invalid",
        SshHostStatus.Canceled => "canceled",
        _ => status.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// The first line worth showing in a summary table: the error for hosts that did not run, else the first
    /// non-empty line of stdout (or stderr), at most 120 characters.
    /// </summary>
    public string Summary
    {
        get
        {
            var text = Status is SshHostStatus.Ok or SshHostStatus.Failed
                ? FirstLine(Stdout) ?? FirstLine(Stderr) ?? Error ?? string.Empty
                : Error ?? FirstLine(Stderr) ?? string.Empty;
            return text.Length > 120 ? string.Concat(text.AsSpan(0, 119), "…") : text;
        }
    }

    public JsonObject ToJson() => new()
    {
        ["host"] = Hostname,
        ["address"] = Address,
        ["status"] = StatusName,
        ["succeeded"] = Status == SshHostStatus.Ok,
        ["return_code"] = ExitCode,
        ["stdout"] = StripFinalNewline(Stdout),
        ["stderr"] = StripFinalNewline(Stderr),
        ["duration_ms"] = (long)Duration.TotalMilliseconds,
        ["summary"] = Summary,
        ["error"] = Error,
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Hostname}: {StatusName}{(ExitCode is { } c ? $" (exit {c})" : string.Empty)}");

    private static string? FirstLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);

    private static string StripFinalNewline(string text) => text.EndsWith('\n') ? text[..^1] : text;
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Users;

namespace OpsRobot.Core.Access;

/// <summary>A sudo request waiting for its confirmation: the command and where it was typed.</summary>
/// <param name="Id">The request's id (shown in the web console).</param>
/// <param name="Command">The command line, without <c>sudo</c>.</param>
/// <param name="Platform">The chat platform it was typed on.</param>
/// <param name="RoomId">The room's id on that platform.</param>
/// <param name="RoomName">The room's name.</param>
/// <param name="RoomIsDirect">Whether that room is a direct conversation.</param>
/// <param name="ThreadId">The thread, where the platform has threads.</param>
/// <param name="ExpiresAt">When the confirmation code stops working.</param>
public sealed record PendingElevation(long Id, string Command, string Platform, string RoomId, string RoomName, bool RoomIsDirect, string? ThreadId, DateTimeOffset ExpiresAt);

public sealed partial class AccessService
{
    public const string LinkPurpose = "link";
    public const string ElevatePurpose = "elevate";
    private static readonly TimeSpan AttemptWindow = TimeSpan.FromMinutes(15);
    private readonly ConcurrentDictionary<string, List<DateTimeOffset>> _failedAttempts = new(StringComparer.Ordinal);

    /// <summary>A one-time code for linking a chat identity to <paramref name="user"/>, made in the web console.</summary>
    public async Task<(string Code, DateTimeOffset ExpiresAt)> CreateLinkCodeAsync(UserRecord user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = _time.GetUtcNow();
        var expires = now + _options.LinkCodeLifetime;
        var (code, _) = await StoreNewCodeAsync(LinkPurpose, user.Id, "{}", now, expires, cancellationToken).ConfigureAwait(false);
        return (code, expires);
    }

    /// <summary>
    /// <c>!link CODE</c>: ties the identity that typed it to the user who asked for the code. Too many wrong codes
    /// from one identity are refused for a while, so six digits cannot be guessed.
    /// </summary>
    public async Task<string> UseLinkCodeAsync(Principal identity, string code, string displayName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (identity.Platform is null || identity.PlatformUserId is null)
        {
            return "Linking is for chat identities; you are signed in already.";
        }

        if (identity.User is not null && identity.Platform is "web" or "shell")
        {
            return $"You are {identity.User.Name} already here.";
        }

        var throttleKey = $"{identity.Platform}:{identity.PlatformUserId}";
        if (Throttled(throttleKey))
        {
            return "Too many wrong codes. Wait a quarter of an hour, then ask the web console for a new code.";
        }

        var used = IsCodeShaped(code)
            ? await _store.UseCodeAsync(LinkPurpose, HashCode(LinkPurpose, code), _time.GetUtcNow(), cancellationToken).ConfigureAwait(false)
            : null;
        if (used is null)
        {
            RecordFailure(throttleKey);
            await _audit.WriteAsync(new AuditEntry
            {
                Kind = AuditKinds.IdentityLinked,
                Actor = identity.Name,
                Door = identity.Door,
                Place = identity.Place,
                Subject = throttleKey,
                Decision = "deny",
                Rule = "unknown, used or expired link code",
            }, cancellationToken).ConfigureAwait(false);
            return "That code is not valid: it may be mistyped, used already or expired. Ask the web console for a new one.";
        }

        var user = await _users.FindByIdAsync(used.UserId, cancellationToken).ConfigureAwait(false)
            ?? throw new AccessChangeException("The user who asked for this code no longer exists.");
        var actor = identity with { Name = user.Name };
        await LinkAsync(actor, identity.Platform, identity.PlatformUserId, user, displayName, "one-time code from the web console", cancellationToken).ConfigureAwait(false);
        return $"Linked: on {identity.Platform} you are now {user.Name}.";
    }

    /// <summary>
    /// Starts a sudo elevation: stores the pending command and returns the one-time code to send through a second
    /// channel (a direct message), or to confirm in the web console.
    /// </summary>
    public async Task<(string Code, PendingElevation Pending)> RequestElevationAsync(UserRecord user, PendingElevation pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(pending);
        var now = _time.GetUtcNow();
        var expires = now + _options.ElevationCodeLifetime;
        var payload = new JsonObject
        {
            ["command"] = pending.Command,
            ["platform"] = pending.Platform,
            ["room_id"] = pending.RoomId,
            ["room_name"] = pending.RoomName,
            ["room_direct"] = pending.RoomIsDirect,
            ["thread_id"] = pending.ThreadId,
        };
        var (code, id) = await StoreNewCodeAsync(ElevatePurpose, user.Id, payload.ToJsonString(), now, expires, cancellationToken).ConfigureAwait(false);
        return (code, pending with { Id = id, ExpiresAt = expires });
    }

    /// <summary>
    /// Confirms an elevation with the code that was sent to the user. The code belongs to one user: anyone else
    /// typing it is refused (and audited). Opens the window and returns the command that was waiting.
    /// </summary>
    public async Task<(PendingElevation? Pending, string? Problem)> ConfirmElevationAsync(Principal principal, string code, string via, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.User is not { } user)
        {
            return (null, "You are not linked to an OpsRobot user, so you cannot be elevated.");
        }

        var throttleKey = $"elevate:{user.Id}";
        if (Throttled(throttleKey))
        {
            return (null, "Too many wrong codes. Wait a quarter of an hour and start again with `sudo COMMAND`.");
        }

        var used = IsCodeShaped(code)
            ? await _store.UseCodeAsync(ElevatePurpose, HashCode(ElevatePurpose, code), _time.GetUtcNow(), cancellationToken).ConfigureAwait(false)
            : null;
        if (used is null || used.UserId != user.Id)
        {
            RecordFailure(throttleKey);
            await AuditElevationAsync(principal, "deny", used is null ? "unknown, used or expired code" : "the code belongs to another user", via, null, cancellationToken).ConfigureAwait(false);
            return (null, "That code is not valid: it may be mistyped, used already, expired, or not yours. Start again with `sudo COMMAND`.");
        }

        return (await OpenElevationAsync(principal, used, via, cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>The sudo requests waiting for <paramref name="user"/>'s confirmation, for the web console.</summary>
    public async Task<IReadOnlyList<PendingElevation>> PendingElevationsAsync(UserRecord user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var codes = await _store.ListOpenCodesAsync(ElevatePurpose, user.Id, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return [.. codes.Select(ToPending)];
    }

    /// <summary>Confirms a pending elevation from the web console, where the user is signed in with their password.</summary>
    public async Task<PendingElevation?> ConfirmElevationFromConsoleAsync(Principal principal, long requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.User is not { } user)
        {
            return null;
        }

        var used = await _store.UseCodeByIdAsync(ElevatePurpose, requestId, user.Id, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return used is null ? null : await OpenElevationAsync(principal, used, "web console", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The user's open elevation, if any.</summary>
    public async Task<ElevationRecord?> ElevationOfAsync(long userId, CancellationToken cancellationToken)
    {
        var e = await _store.GetElevationAsync(userId, cancellationToken).ConfigureAwait(false);
        return e is not null && e.ExpiresAt > _time.GetUtcNow() ? e : null;
    }

    /// <summary>Closes the user's elevation before it expires (<c>sudo off</c>).</summary>
    public async Task DropElevationAsync(Principal principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.User is { } user)
        {
            await _store.CloseElevationAsync(user.Id, cancellationToken).ConfigureAwait(false);
            await AuditElevationAsync(principal, "allow", "closed by its holder", "chat", null, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<PendingElevation> OpenElevationAsync(Principal principal, OneTimeCodeRecord used, string via, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var elevation = new ElevationRecord(used.UserId, now, now + _options.ElevationWindow, via);
        await _store.OpenElevationAsync(elevation, cancellationToken).ConfigureAwait(false);
        var pending = ToPending(used);
        await AuditElevationAsync(principal, "allow", string.Create(CultureInfo.InvariantCulture, $"confirmed via {via}; open until {elevation.ExpiresAt:O}"), via, pending.Command, cancellationToken).ConfigureAwait(false);
        return pending;
    }

    private Task<AuditRecord> AuditElevationAsync(Principal principal, string decision, string rule, string via, string? command, CancellationToken cancellationToken) =>
        _audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Elevation,
            Actor = principal.Name,
            Door = principal.Door,
            Place = principal.Place,
            Subject = command is null ? null : AuditLog.MaskSecrets(command),
            Decision = decision,
            Rule = rule,
            Detail = new JsonObject { ["via"] = via },
        }, cancellationToken);

    private static PendingElevation ToPending(OneTimeCodeRecord code)
    {
        var p = JsonNode.Parse(code.Payload) as JsonObject ?? [];
        return new PendingElevation(
            code.Id,
            p["command"]?.GetValue<string>() ?? string.Empty,
            p["platform"]?.GetValue<string>() ?? string.Empty,
            p["room_id"]?.GetValue<string>() ?? string.Empty,
            p["room_name"]?.GetValue<string>() ?? string.Empty,
            p["room_direct"]?.GetValue<bool>() ?? false,
            p["thread_id"]?.GetValue<string>(),
            code.ExpiresAt);
    }

    private bool Throttled(string key)
    {
        if (!_failedAttempts.TryGetValue(key, out var list))
        {
            return false;
        }

        lock (list)
        {
            var since = _time.GetUtcNow() - AttemptWindow;
            list.RemoveAll(t => t < since);
            return list.Count >= _options.MaxCodeAttempts;
        }
    }

    private void RecordFailure(string key)
    {
        var list = _failedAttempts.GetOrAdd(key, _ => []);
        lock (list)
        {
            list.Add(_time.GetUtcNow());
        }
    }

    /// <summary>Draws codes until one is not open already, so a code always names exactly one request.</summary>
    private async Task<(string Code, long Id)> StoreNewCodeAsync(string purpose, long userId, string payload, DateTimeOffset now, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var code = NewCode();
            var id = await _store.CreateCodeAsync(purpose, userId, HashCode(purpose, code), payload, now, expires, cancellationToken).ConfigureAwait(false);
            if (id > 0)
            {
                return (code, id);
            }
        }

        throw new AccessChangeException("Could not make a unique code; too many are open. Try again in a few minutes.");
    }

    private static bool IsCodeShaped(string code) => code.Length == 6 && code.All(char.IsAsciiDigit);

    private static string NewCode() => RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);

    private static string HashCode(string purpose, string code) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"opsrobot-{purpose}:{code}")));
}

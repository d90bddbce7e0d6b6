using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;

namespace OpsRobot.Core.Alerts;

/// <summary>A room alerts are posted to: the chat platform and the room's name (or id) there.</summary>
/// <param name="Platform">The chat platform (<c>web</c>, <c>irc</c>, <c>slack</c>).</param>
/// <param name="Room">The room's name or id on that platform.</param>
public sealed record AlertRoom(string Platform, string Room)
{
    /// <summary>Reads <c>platform:room</c>; null when it is not of that form.</summary>
    public static AlertRoom? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            return null;
        }

        var platform = text[..colon].Trim().ToLowerInvariant();
        var room = text[(colon + 1)..].Trim();
        return platform.Length == 0 || room.Length == 0 || room.Any(char.IsControl) ? null : new AlertRoom(platform, room);
    }

    public override string ToString() => $"{Platform}:{Room}";
}

/// <summary>
/// Decides which application-tree node an alert belongs to and which rooms hear about it: every route whose node
/// holds the alert's node, or whose labels the alert carries, adds its rooms; the default room takes alerts no
/// route claimed.
/// </summary>
public sealed class AlertRouter(AccessService access, IOptions<AlertOptions> options, IHostDirectory? hosts = null)
{
    private readonly AlertOptions _options = options.Value;

    /// <summary>
    /// The node of an alert: its <c>application</c> label when that names a node (an exact path or a unique leaf
    /// name), else its host's node in the CMDB; null when neither is known.
    /// </summary>
    public async Task<string?> FindNodeAsync(string? application, string? host, CancellationToken cancellationToken)
    {
        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        if (application is not null && tree.Resolve(application).Path is { } path)
        {
            return path;
        }

        if (host is not null && hosts is not null)
        {
            // Alertmanager's instance label is host:port; the CMDB knows the host.
            var name = StripPort(host);
            if (await hosts.FindApplicationAsync(name, cancellationToken).ConfigureAwait(false) is { } node && tree.Contains(node))
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>The rooms for an alert, in route order, each once.</summary>
    public IReadOnlyList<AlertRoom> RoomsFor(AlertState alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var rooms = new List<AlertRoom>();
        foreach (var route in _options.Routes)
        {
            if (!Matches(route, alert))
            {
                continue;
            }

            foreach (var room in route.Rooms)
            {
                if (AlertRoom.Parse(room) is { } r && !rooms.Contains(r))
                {
                    rooms.Add(r);
                }
            }

            if (route.Stop)
            {
                return rooms;
            }
        }

        if (rooms.Count == 0 && AlertRoom.Parse(_options.DefaultRoom) is { } fallback)
        {
            rooms.Add(fallback);
        }

        return rooms;
    }

    /// <summary>Problems in the routing configuration, worded for the operator (checked at start).</summary>
    public static IReadOnlyList<string> Check(AlertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.DefaultRoom) && AlertRoom.Parse(options.DefaultRoom) is null)
        {
            problems.Add($"OpsRobot:Alerts:DefaultRoom '{options.DefaultRoom}' is not platform:room (e.g. web:ops)");
        }

        for (var i = 0; i < options.Routes.Count; i++)
        {
            var route = options.Routes[i];
            if (string.IsNullOrWhiteSpace(route.Node) && route.Labels.Count == 0)
            {
                problems.Add($"OpsRobot:Alerts:Routes:{i} names neither a Node nor Labels, so it would match every alert; use DefaultRoom for that");
            }

            if (route.Node is { Length: > 0 } node && ApplicationTree.CheckNewPath(node) is { } bad)
            {
                problems.Add($"OpsRobot:Alerts:Routes:{i}:Node '{node}': {bad}");
            }

            if (route.Rooms.Count == 0)
            {
                problems.Add($"OpsRobot:Alerts:Routes:{i} has no Rooms");
            }

            problems.AddRange(route.Rooms.Where(r => AlertRoom.Parse(r) is null).Select(r => $"OpsRobot:Alerts:Routes:{i}: room '{r}' is not platform:room (e.g. irc:#db)"));
        }

        return problems;
    }

    private static bool Matches(AlertRoute route, AlertState alert)
    {
        if (route.Node is { Length: > 0 } node
            && (alert.Node is null || !(alert.Node == node || alert.Node.StartsWith(node + "/", StringComparison.Ordinal))))
        {
            return false;
        }

        foreach (var (key, value) in route.Labels)
        {
            if (!alert.Labels.TryGetValue(key, out var actual) || (value != "*" && !string.Equals(actual, value, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }

    internal static string StripPort(string host)
    {
        var colon = host.LastIndexOf(':');
        return colon > 0 && host.IndexOf(':', StringComparison.Ordinal) == colon && host[(colon + 1)..].All(char.IsAsciiDigit) ? host[..colon] : host;
    }
}

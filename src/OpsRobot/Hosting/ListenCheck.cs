using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OpsRobot.Hosting;

/// <summary>
/// Whether the configured addresses can be listened on, found out before the server does anything else, and the
/// sentences that say why not. Kestrel binds only when the host starts, after the store has been recovered.
/// </summary>
internal static class ListenCheck
{
    /// <summary>Binds each address of <paramref name="listen"/> for a moment; throws a <see cref="StartupException"/> that says why one cannot be.</summary>
    public static void EnsureCanListen(string listen)
    {
        foreach (var url in listen.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (EndPointOf(url) is not { Port: > 0 } endpoint)
            {
                // Port 0 (any free port) cannot be taken; names Kestrel resolves itself are checked when it binds.
                continue;
            }

            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(endpoint);
            }
            catch (SocketException ex)
            {
                throw new StartupException(CannotListen(url, ex), ex);
            }
        }
    }

    /// <summary>The sentence for a bind that failed with <paramref name="error"/>.</summary>
    public static string CannotListen(string listen, SocketException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var port = Uri.TryCreate(listen.Split([';', ','])[0].Trim(), UriKind.Absolute, out var uri) ? uri.Port.ToString(CultureInfo.InvariantCulture) : "PORT";
        return error.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => PortInUse(listen),
            SocketError.AddressNotAvailable =>
                $"Cannot listen on {listen}: this machine has no such address. Give one of its own addresses (127.0.0.1, or 0.0.0.0 for all of them) with --listen http://127.0.0.1:{port} (or OpsRobot:Listen, OPSROBOT__LISTEN).",
            SocketError.AccessDenied =>
                $"Cannot listen on {listen}: this account may not use port {port} (ports below 1024 need privileges). Choose a port from 1024 up with --listen (or OpsRobot:Listen, OPSROBOT__LISTEN).",
            _ => $"Cannot listen on {listen}: {error.Message}. Check OpsRobot:Listen.",
        };
    }

    public static string PortInUse(string listen) =>
        $"Cannot listen on {listen}: the port is already in use (is another OpsRobot running?). Stop the other process, or choose another address with --listen http://127.0.0.1:PORT (or OpsRobot:Listen, OPSROBOT__LISTEN).";

    /// <summary>The endpoint Kestrel binds for <paramref name="url"/> (IPv4's for <c>localhost</c> and the wildcards), or null when it is not an address.</summary>
    private static IPEndPoint? EndPointOf(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return null;
        }

        var host = uri.Host.Trim('[', ']');
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" => IPAddress.Any,
            _ => IPAddress.TryParse(host, out var parsed) ? parsed : null,
        };
        return address is null ? null : new IPEndPoint(address, uri.Port);
    }
}

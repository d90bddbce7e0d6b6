using System.Globalization;
using System.Text.RegularExpressions;
using OpsRobot.Core.Cmdb;

namespace OpsRobot.Integrations.Ssh;

/// <summary>Where and as whom to log in to one host.</summary>
/// <param name="Hostname">The CMDB name, also the host-key alias in the known-hosts file.</param>
/// <param name="Address">The address to connect to (the CMDB's first).</param>
/// <param name="Port">The TCP port.</param>
/// <param name="User">The login.</param>
public sealed partial record SshTarget(string Hostname, string Address, int Port, string User)
{
    /// <summary>
    /// The target for a CMDB host: the first address; the port from the action, else the host's <c>ssh_port</c>
    /// attribute, else 22; the user from the action, else <c>ssh_user</c>, else the configured default. Every value
    /// that reaches OpenSSH's command line is checked here, so none can be read as an option.
    /// </summary>
    public static (SshTarget? Target, string? Error) For(HostRecord host, string? user, int? port, string? defaultUser)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (!IsHostname(host.Hostname))
        {
            return (null, "its CMDB name is not a valid host name (letters, digits, '.', '-', '_')");
        }

        var address = host.Addresses.FirstOrDefault(a => !string.IsNullOrWhiteSpace(a));
        if (address is null)
        {
            return (null, "the CMDB has no address for it");
        }

        if (!IsAddress(address))
        {
            return (null, "its CMDB address is not a host name or an IP address");
        }

        var effectivePort = port;
        if (effectivePort is null && host.Attributes.TryGetValue("ssh_port", out var portText))
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return (null, "its ssh_port attribute is not a number");
            }

            effectivePort = parsed;
        }

        effectivePort ??= 22;
        if (effectivePort is < 1 or > 65535)
        {
            return (null, "its SSH port is outside 1-65535");
        }

        var login = user ?? host.Attributes.GetValueOrDefault("ssh_user") ?? defaultUser;
        if (login is null)
        {
            return (null, "no user to log in as: give 'user', set the host's ssh_user attribute, or set OpsRobot:Ssh:DefaultUser");
        }

        if (!IsUser(login))
        {
            return (null, "the login is not a valid user name");
        }

        return (new SshTarget(host.Hostname, address, effectivePort.Value, login), null);
    }

    /// <summary>A CMDB host name: what the known-hosts file and OpenSSH's <c>HostKeyAlias</c> may hold.</summary>
    public static bool IsHostname(string? name) => name is not null && HostnamePattern().IsMatch(name);

    /// <summary>A DNS name, an IPv4 or an IPv6 address; never something starting with '-'.</summary>
    public static bool IsAddress(string? address) => address is not null && AddressPattern().IsMatch(address);

    /// <summary>A POSIX login name.</summary>
    public static bool IsUser(string? user) => user is not null && UserPattern().IsMatch(user);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex HostnamePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex AddressPattern();

    [GeneratedRegex("^[a-z_][a-z0-9_.-]{0,31}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex UserPattern();
}

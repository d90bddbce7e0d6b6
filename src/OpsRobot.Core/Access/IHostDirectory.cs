namespace OpsRobot.Core.Access;

/// <summary>
/// Maps a host name to its application node, for parameters scoped as <c>host</c>. The CMDB provides it; with
/// none registered, host-scoped commands are refused (access control fails closed).
/// </summary>
public interface IHostDirectory
{
    /// <summary>The node path of the host's application, or null when the host is unknown.</summary>
    Task<string?> FindApplicationAsync(string host, CancellationToken cancellationToken);
}

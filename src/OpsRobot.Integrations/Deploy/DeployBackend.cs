using OpsRobot.Core.Actions;
using OpsRobot.Core.Cmdb;
using OpsRobot.Integrations.Ssh;

namespace OpsRobot.Integrations.Deploy;

/// <summary>What a back-end is asked to do: put <see cref="Version"/> of <see cref="App"/> on <see cref="Hosts"/>.</summary>
public sealed record DeployRequest(string App, string Version, string Environment, string? PreviousVersion, IReadOnlyList<HostRecord> Hosts, DeployAppOptions Settings)
{
    /// <summary>The execution's id, passed on to the playbook.</summary>
    public required string ExecutionId { get; init; }

    /// <summary>The deploy pack's folder, against which a relative playbook path resolves.</summary>
    public required string PackDirectory { get; init; }

    /// <summary>For back-ends that connect over SSH: each host's target (address, port, login), checked; else empty.</summary>
    public IReadOnlyList<SshTarget> Targets { get; init; } = [];

    /// <summary>For back-ends that connect over SSH: the private key file, for the run's length; else null.</summary>
    public string? KeyPath { get; init; }
}

/// <summary>How a back-end's run ended.</summary>
/// <param name="Succeeded">Every host got the version.</param>
/// <param name="Error">Why not, for people.</param>
/// <param name="Hosts">Per-host outcome as the back-end reports it (Ansible's recap), host name to a short word.</param>
public sealed record DeployOutcome(bool Succeeded, string? Error, IReadOnlyDictionary<string, string> Hosts);

/// <summary>A deployment tool OpsRobot drives.</summary>
public interface IDeployBackend
{
    /// <summary>The name apps select it by (<c>ansible</c>).</summary>
    string Name { get; }

    /// <summary>Whether OpsRobot connects to the hosts itself (SSH targets and a key are prepared) or a server of the tool does.</summary>
    bool UsesSsh { get; }

    /// <summary>Runs the deployment, writing the tool's output to <paramref name="output"/> as it happens.</summary>
    Task<DeployOutcome> DeployAsync(DeployRequest request, IRunnerOutput output, CancellationToken cancellationToken);
}

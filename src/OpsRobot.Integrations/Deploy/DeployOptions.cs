namespace OpsRobot.Integrations.Deploy;

/// <summary>How applications are deployed (<c>OpsRobot:Deploy</c>).</summary>
public sealed class DeployOptions
{
    /// <summary>
    /// Environments that count as production: deploying or rolling back there is a sudo command (the
    /// <c>deploy.deploy_production</c> and <c>deploy.rollback_production</c> actions); the plain actions refuse them.
    /// </summary>
    public IList<string> ProductionEnvironments { get; } = ["prod", "production"];

    /// <summary>Each deployable application by name (<c>booking</c>): its back-end and how to drive it.</summary>
    public IDictionary<string, DeployAppOptions> Apps { get; } = new Dictionary<string, DeployAppOptions>(StringComparer.Ordinal);

    /// <summary>Ansible's <c>ansible-playbook</c>.</summary>
    public string AnsiblePlaybookPath { get; set; } = "/usr/bin/ansible-playbook";
}

/// <summary>One application's deployment settings.</summary>
public sealed class DeployAppOptions
{
    /// <summary><c>ansible</c> (the only back-end that ships today).</summary>
    public string Backend { get; set; } = "ansible";

    /// <summary>
    /// The playbook, relative to the deploy pack's folder (<c>playbooks/booking.yml</c>) or absolute. It gets the
    /// extra variables <c>app</c>, <c>version</c>, <c>env</c>, <c>previous_version</c> and <c>opsrobot_execution</c>.
    /// </summary>
    public string? Playbook { get; set; }

    /// <summary>The application-tree node whose hosts (in the target environment) are deployed to; default the app's name.</summary>
    public string? Node { get; set; }

    /// <summary>The SSH login; default each host's <c>ssh_user</c> attribute, then <c>OpsRobot:Ssh:DefaultUser</c>.</summary>
    public string? User { get; set; }

    /// <summary>The system datastore secret with the SSH private key; default <c>OpsRobot:Ssh:DefaultKey</c>.</summary>
    public string? Key { get; set; }

    /// <summary>Hosts Ansible works on at once (<c>--forks</c>).</summary>
    public int Forks { get; set; } = 10;
}

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

    /// <summary>The salt-api server the <c>salt</c> back-end talks to.</summary>
    public SaltApiOptions Salt { get; } = new();
}

/// <summary>
/// salt-api's REST interface (<c>rest_cherrypy</c>): OpsRobot logs in with an external-auth user whose password is
/// a datastore secret, starts <c>state.apply</c> with the <c>local_async</c> client and follows the job.
/// </summary>
public sealed class SaltApiOptions
{
    /// <summary>salt-api's base address (<c>https://salt.example.com:8000</c>).</summary>
    public Uri? Url { get; set; }

    public string? Username { get; set; }

    /// <summary>The system datastore secret holding the password.</summary>
    public string? PasswordKey { get; set; }

    /// <summary>salt's external authentication back-end (<c>pam</c>, <c>ldap</c>, …).</summary>
    public string Eauth { get; set; } = "pam";

    /// <summary>How often the job is looked up while it runs.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The time limit of each request to salt-api.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>One application's deployment settings.</summary>
public sealed class DeployAppOptions
{
    /// <summary><c>ansible</c> or <c>salt</c>.</summary>
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

    /// <summary>The Salt state the <c>salt</c> back-end applies (<c>state.apply STATE</c>); default the app's name. Minion ids are the CMDB host names.</summary>
    public string? State { get; set; }
}

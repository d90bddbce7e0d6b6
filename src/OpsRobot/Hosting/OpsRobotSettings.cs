namespace OpsRobot.Hosting;

/// <summary>
/// The host's settings, bound from the <c>OpsRobot</c> configuration section (appsettings.json, <c>OPSROBOT__…</c>
/// environment variables, command line). Every one is documented in docs/configuration.md.
/// </summary>
public sealed class OpsRobotSettings
{
    public const string Section = "OpsRobot";

    /// <summary>The address the web chat and API listen on.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Where the database, keys and other state live. Relative to the OpsRobot home folder.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>Where packs are loaded from. Relative to the OpsRobot home folder.</summary>
    public string PacksDir { get; set; } = "packs";

    /// <summary>Where role files (configuration as code) are read from. Relative to the OpsRobot home folder.</summary>
    public string RolesDir { get; set; } = "roles";

    public AdminSettings Admin { get; set; } = new();

    public SignInSettings SignIn { get; set; } = new();
}

/// <summary>The first administrator, created on the very first start.</summary>
public sealed class AdminSettings
{
    public string UserName { get; set; } = "admin";

    /// <summary>
    /// The first administrator's password. Used only when the account is created; when unset, a password is
    /// generated and shown once. Never logged.
    /// </summary>
    public string? Password { get; set; }
}

/// <summary>Web sign-in: session length and lockout.</summary>
public sealed class SignInSettings
{
    /// <summary>How long a web session lasts without activity.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Failed sign-ins in a row that lock an account.</summary>
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>How long a locked account stays locked.</summary>
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>Folders resolved to absolute paths.</summary>
/// <param name="Home">The OpsRobot home folder: <c>OPSROBOT_HOME</c>, or the current directory.</param>
/// <param name="DataDir">The data folder.</param>
/// <param name="PacksDir">The packs folder.</param>
public sealed record OpsRobotPaths(string Home, string DataDir, string PacksDir)
{
    /// <summary>The folder of role files.</summary>
    public string RolesDir { get; init; } = Path.Combine(Home, "roles");

    public const string HomeVariable = "OPSROBOT_HOME";

    public static string ResolveHome()
    {
        var home = Environment.GetEnvironmentVariable(HomeVariable);
        return Path.GetFullPath(string.IsNullOrWhiteSpace(home) ? Directory.GetCurrentDirectory() : home);
    }

    public static OpsRobotPaths Resolve(string home, OpsRobotSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new OpsRobotPaths(
            home,
            Path.GetFullPath(Path.Combine(home, settings.DataDir)),
            Path.GetFullPath(Path.Combine(home, settings.PacksDir)))
        {
            RolesDir = Path.GetFullPath(Path.Combine(home, settings.RolesDir)),
        };
    }
}

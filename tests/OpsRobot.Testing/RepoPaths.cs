namespace OpsRobot.Testing;

/// <summary>Where things are in the repository, found from the test's own location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The packs that ship with OpsRobot.</summary>
    public static string Packs => Path.Combine(Root, "packs");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OpsRobot.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (OpsRobot.slnx) above " + AppContext.BaseDirectory);
    }
}

namespace OpsRobot.Testing;

/// <summary>An OpsRobot home folder for one test: a copy of the shipped packs and an empty data folder.</summary>
public sealed class TestHome : IDisposable
{
    /// <summary>
    /// Shipped packs left out of test homes: they drive outside systems (a CMDB, SSH, Ansible) that a test home does
    /// not have, and their commands (<c>!deploy</c>) would compete with the demo packs the end-to-end tests write.
    /// Their own tests load them from the repository.
    /// </summary>
    private static readonly string[] IntegrationPacks = ["ssh", "deploy"];

    private readonly TempDirectory _dir = new("opsrobot-home");

    public TestHome(bool withShippedPacks = true)
    {
        Directory.CreateDirectory(PacksDir);
        if (withShippedPacks)
        {
            foreach (var pack in Directory.EnumerateDirectories(RepoPaths.Packs))
            {
                var name = System.IO.Path.GetFileName(pack);
                if (!IntegrationPacks.Contains(name, StringComparer.Ordinal))
                {
                    CopyDirectory(pack, System.IO.Path.Combine(PacksDir, name));
                }
            }
        }
    }

    public string Path => _dir.Path;

    public string PacksDir => _dir.Combine("packs");

    public string DataDir => _dir.Combine("data");

    public string Write(string relativePath, string content) => _dir.Write(relativePath, content);

    public void Dispose() => _dir.Dispose();

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal), overwrite: true);
        }
    }
}

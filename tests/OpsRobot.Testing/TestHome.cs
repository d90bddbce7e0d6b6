namespace OpsRobot.Testing;

/// <summary>An OpsRobot home folder for one test: a copy of the shipped packs and an empty data folder.</summary>
public sealed class TestHome : IDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-home");

    public TestHome(bool withShippedPacks = true)
    {
        Directory.CreateDirectory(PacksDir);
        if (withShippedPacks)
        {
            CopyDirectory(RepoPaths.Packs, PacksDir);
        }
    }

    public string Path => _dir.Path;

    public string PacksDir => _dir.Combine("packs");

    public string DataDir => _dir.Combine("data");

    public string Write(string relativePath, string content) => _dir.Write(relativePath, content);

    public void Dispose() => _dir.Dispose();

    private static void CopyDirectory(string from, string to)
    {
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

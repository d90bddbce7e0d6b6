using OpsRobot.Core.Actions;
using OpsRobot.Testing;

namespace OpsRobot.Runners.Tests.Support;

/// <summary>A pack folder on disk (<c>packs/demo/actions/…</c>) for script actions.</summary>
public sealed class TestPack : IDisposable
{
    private readonly TempDirectory _root = new("opsrobot-runners");

    public TestPack()
    {
        Directory.CreateDirectory(ActionsDirectory);
    }

    /// <summary>The folder that holds the pack folder (where "another pack" or outside files go).</summary>
    public string Root => _root.Path;

    public string PackDirectory => _root.Combine("packs", "demo");

    public string ActionsDirectory => Path.Combine(PackDirectory, "actions");

    /// <summary>Writes a script under actions/ with the given mode and returns its full path.</summary>
    public string Script(string relativePath, string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute)
    {
        var path = Path.GetFullPath(Path.Combine(ActionsDirectory, relativePath));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
        File.SetUnixFileMode(path, mode);
        return path;
    }

    public ActionDefinition Action(string? entryPoint, params ParameterDefinition[] parameters) =>
        new("demo", "script_action", "script")
        {
            EntryPoint = entryPoint,
            PackDirectory = PackDirectory,
            Parameters = parameters,
        };

    public void Dispose() => _root.Dispose();
}

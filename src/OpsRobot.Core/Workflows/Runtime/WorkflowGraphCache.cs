using System.Collections.Concurrent;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>
/// Loaded workflow files, by path: a file is parsed and checked once per version on disk (its last write time and
/// length), and the graph shared by every run of it.
/// </summary>
public sealed class WorkflowGraphCache(WorkflowLoader loader)
{
    private readonly ConcurrentDictionary<string, (DateTime Written, long Length, WorkflowGraph Graph)> _graphs = new(StringComparer.Ordinal);

    /// <summary>The graph of the workflow file at <paramref name="path"/>.</summary>
    /// <exception cref="WorkflowLoadException">The file cannot be read or has problems.</exception>
    public WorkflowGraph Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new WorkflowLoadException([new WorkflowError(path, 0, 0, "the workflow file does not exist")]);
        }

        if (_graphs.TryGetValue(path, out var cached) && cached.Written == info.LastWriteTimeUtc && cached.Length == info.Length)
        {
            return cached.Graph;
        }

        var graph = loader.LoadFile(path);
        _graphs[path] = (info.LastWriteTimeUtc, info.Length, graph);
        return graph;
    }
}

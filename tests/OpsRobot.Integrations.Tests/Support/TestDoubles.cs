using System.Text;
using OpsRobot.Core.Access;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Cmdb;
using OpsRobot.Core.Executions;
using OpsRobot.Integrations.Secrets;
using OpsRobot.Integrations.Ssh;

namespace OpsRobot.Integrations.Tests.Support;

/// <summary>Allows hosts whose application starts with one of the given nodes; records what it was asked.</summary>
public sealed class NodeHostPolicy(params string[] allowedNodes) : IHostAccessPolicy
{
    private readonly List<(ExecutionRequester? Requester, string Host)> _asked = [];

    public IReadOnlyList<(ExecutionRequester? Requester, string Host)> Asked
    {
        get
        {
            lock (_asked)
            {
                return [.. _asked];
            }
        }
    }

    public Task<IReadOnlyList<HostAccessDecision>> AuthorizeAsync(ExecutionRequester? requester, string actionRef, IReadOnlyList<HostRecord> hosts, CancellationToken cancellationToken)
    {
        IReadOnlyList<HostAccessDecision> answers = [.. hosts.Select(h =>
        {
            lock (_asked)
            {
                _asked.Add((requester, h.Hostname));
            }

            return allowedNodes.Any(n => h.Application is { } app && app.StartsWith(n, StringComparison.Ordinal))
                ? new HostAccessDecision(h.Hostname, true, "member")
                : new HostAccessDecision(h.Hostname, false, $"alice is not a member of `{h.Application}`");
        })];
        return Task.FromResult(answers);
    }
}

/// <summary>Secrets by name, as the datastore would hand them over.</summary>
public sealed class DictionaryKeySource(IReadOnlyDictionary<string, string> keys) : ISecretSource
{
    public Task<(string? Key, string? Error)> GetAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(keys.TryGetValue(name, out var key) ? (key, (string?)null) : ((string?)null, $"there is no system datastore key '{name}'"));
}

/// <summary>Keeps what a runner streams.</summary>
public sealed class RecordingOutput : IRunnerOutput
{
    private readonly StringBuilder _text = new();

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    public void Write(OutputKind kind, string text)
    {
        lock (_text)
        {
            _text.Append(text);
        }
    }
}

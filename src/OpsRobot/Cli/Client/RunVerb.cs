using System.Globalization;
using System.Text.Json.Nodes;

namespace OpsRobot.Cli.Client;

/// <summary><c>opsrobot run ACTION key=value…</c>: request an execution and, unless <c>--async</c>, follow it to its end.</summary>
internal static class RunVerb
{
    public static async Task<int> RunAsync(
        OpsRobotClient client, string action, IReadOnlyList<string> tokens, bool background, bool json, CancellationToken cancellationToken)
    {
        // Checked before anything is sent: a typo must not start half a request.
        var parameters = ParseParameters(tokens);
        var answer = await client.PostAsync("api/v1/executions", new JsonObject { ["action"] = action, ["parameters"] = parameters }, cancellationToken);
        var created = ExecutionView.From(answer, "The answer to POST /api/v1/executions");
        if (background)
        {
            await Console.Out.WriteLineAsync(json ? Text.Pretty(created.Raw) : created.Id.ToString(CultureInfo.InvariantCulture));
            return ExitCodes.Succeeded;
        }

        return await WatchAsync(client, created.Id, json, cancellationToken);
    }

    /// <summary>
    /// Follows an execution to its end, prints how it ended and returns the exit code for it. Ctrl+C stops the
    /// watching only: the execution was asked for on purpose and may be halfway through a change that is worse
    /// to interrupt than to finish (a deploy, a migration), and the user may just want their terminal back. They
    /// are told how to cancel it, which is one deliberate command away.
    /// </summary>
    public static async Task<int> WatchAsync(OpsRobotClient client, long id, bool json, CancellationToken cancellationToken)
    {
        ExecutionView finished;
        try
        {
            finished = await new ExecutionFollower(client, Console.Out, Console.Error).FollowAsync(id, printOutput: !json, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync(Text.Invariant($"execution {id} still runs; cancel it with: opsrobot execution cancel {id}"));
            return ExitCodes.Interrupted;
        }

        if (json)
        {
            await Console.Out.WriteLineAsync(Text.Pretty(finished.Raw));
        }

        await Console.Error.WriteLineAsync(finished.Summary());
        return finished.ToExitCode();
    }

    /// <summary>
    /// <c>key=value</c> tokens as the API's parameters, every value a string: split at the first <c>=</c> (a value
    /// may contain more, and spaces when the shell passed it as one argument); <c>key=</c> is the empty string.
    /// </summary>
    internal static JsonObject ParseParameters(IReadOnlyList<string> tokens)
    {
        var parameters = new JsonObject();
        foreach (var token in tokens)
        {
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                throw new ClientUsageException(
                    $"'{OpsRobotClient.OneLine(token)}' is not a parameter: write it as key=value (key= for an empty value; quote a value with spaces).");
            }

            if (equals == 0)
            {
                throw new ClientUsageException($"'{OpsRobotClient.OneLine(token)}' has no parameter name before the '='.");
            }

            var name = token[..equals];
            if (parameters.ContainsKey(name))
            {
                throw new ClientUsageException($"parameter '{OpsRobotClient.OneLine(name)}' is given twice; give it once.");
            }

            parameters[name] = token[(equals + 1)..];
        }

        return parameters;
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace OpsRobot.Cli.Client;

/// <summary><c>opsrobot execution list|get|cancel|pause|resume|rerun|tail</c>.</summary>
internal static class ExecutionVerbs
{
    /// <summary>The statuses of docs/api.md, for <c>--status</c>.</summary>
    public static readonly string[] Statuses =
        ["requested", "scheduled", "running", "pending", "pausing", "paused", "resuming", "succeeded", "failed", "timeout", "canceling", "canceled", "abandoned"];

    public static async Task<int> ListAsync(
        OpsRobotClient client, string? action, string? status, string? user, int? limit, bool json, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        AddQuery(query, "action", action);
        AddQuery(query, "status", status);
        AddQuery(query, "user", user);
        AddQuery(query, "limit", limit?.ToString(CultureInfo.InvariantCulture));
        var path = "api/v1/executions" + (query.Count == 0 ? string.Empty : "?" + string.Join('&', query));
        var answer = await client.GetAsync(path, cancellationToken);
        var page = answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("executions", out var items) ? items : answer;
        if (page.ValueKind != JsonValueKind.Array)
        {
            throw new UnexpectedAnswerException("The answer to GET /api/v1/executions has no 'executions' list.");
        }

        if (json)
        {
            await Console.Out.WriteLineAsync(Text.Pretty(page));
            return ExitCodes.Succeeded;
        }

        var executions = page.EnumerateArray().Select(e => ExecutionView.From(e, "An item of GET /api/v1/executions")).ToList();
        if (executions.Count == 0)
        {
            await Console.Out.WriteLineAsync(query.Count == 0 ? "No executions yet." : "No executions match.");
            return ExitCodes.Succeeded;
        }

        var rows = executions.Select(e => (IReadOnlyList<string>)
        [
            e.Id.ToString(CultureInfo.InvariantCulture),
            OpsRobotClient.OneLine(e.Action ?? "-"),
            e.Status ?? "-",
            e.RequesterText(withDetails: false),
            Text.Time(e.StartedAt ?? e.CreatedAt),
            e.ElapsedSeconds is { } s ? Text.Duration(s) : "-",
        ]).ToList();
        await Console.Out.WriteAsync(Text.Table(["ID", "ACTION", "STATUS", "USER", "STARTED", "DURATION"], rows));
        return ExitCodes.Succeeded;
    }

    public static async Task<int> GetAsync(OpsRobotClient client, long id, bool json, CancellationToken cancellationToken)
    {
        var execution = ExecutionView.From(await ForExecution(id, client.GetAsync(ExecutionPath(id), cancellationToken)), $"The answer for execution {id}");
        if (json)
        {
            await Console.Out.WriteLineAsync(Text.Pretty(execution.Raw));
            return ExitCodes.Succeeded;
        }

        var output = await ForExecution(id, client.GetTextAsync(ExecutionPath(id) + "/output?format=text", cancellationToken));
        await Console.Out.WriteAsync(Describe(execution, output));
        return ExitCodes.Succeeded;
    }

    public static async Task<int> CancelAsync(OpsRobotClient client, long id, CancellationToken cancellationToken)
    {
        var execution = ExecutionView.From(
            await ForExecution(id, client.PostAsync(ExecutionPath(id) + "/cancel", null, cancellationToken)), $"The answer to canceling execution {id}");
        var line = execution.Status switch
        {
            "canceled" => $"execution {id} is canceled.",
            "canceling" => $"execution {id} is canceling: its processes are being stopped. Follow it with: opsrobot execution tail {id}",
            _ when execution.IsFinished => $"execution {id} had already finished ({execution.Status}); nothing to cancel.",
            _ => $"execution {id} is {execution.Status}.",
        };
        await Console.Out.WriteLineAsync(line);
        return ExitCodes.Succeeded;
    }

    /// <summary>
    /// Pauses or resumes a workflow execution. The server's refusals (not a workflow running there, a status that does
    /// not allow it, no permission) come back as its own sentences, so a 404 here is not mapped to "no such execution".
    /// </summary>
    public static async Task<int> ControlAsync(OpsRobotClient client, long id, bool pause, CancellationToken cancellationToken)
    {
        var answer = await client.PostAsync(ExecutionPath(id) + (pause ? "/pause" : "/resume"), null, cancellationToken);
        var status = answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("workflowStatus", out var s) && s.ValueKind == JsonValueKind.String
            ? s.GetString()!
            : throw new UnexpectedAnswerException($"The answer to {(pause ? "pausing" : "resuming")} execution {id} has no 'workflowStatus'.");
        var line = status switch
        {
            "pausing" => $"workflow {id} is pausing: its running tasks finish, nothing new starts. Resume it with: opsrobot execution resume {id}",
            "paused" => $"workflow {id} is paused. Resume it with: opsrobot execution resume {id}",
            "resuming" or "running" => $"workflow {id} is {status}. Follow it with: opsrobot execution tail {id}",
            _ => $"workflow {id} is {OpsRobotClient.OneLine(status)}.",
        };
        await Console.Out.WriteLineAsync(line);
        return ExitCodes.Succeeded;
    }

    /// <summary>Re-runs a workflow from its failed tasks (or <paramref name="tasks"/>); prints the new execution's number.</summary>
    public static async Task<int> RerunAsync(OpsRobotClient client, long id, IReadOnlyList<string> tasks, CancellationToken cancellationToken)
    {
        var body = new System.Text.Json.Nodes.JsonObject { ["tasks"] = new System.Text.Json.Nodes.JsonArray([.. tasks.Select(t => (System.Text.Json.Nodes.JsonNode?)t)]) };
        var answer = await client.PostAsync(ExecutionPath(id) + "/rerun", body, cancellationToken);
        if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("execution", out var created))
        {
            throw new UnexpectedAnswerException($"The answer to re-running execution {id} has no 'execution'.");
        }

        var execution = ExecutionView.From(created, $"The answer to re-running execution {id}");
        var from = answer.TryGetProperty("tasks", out var staged) && staged.ValueKind == JsonValueKind.Array
            ? string.Join(", ", staged.EnumerateArray().Select(t => OpsRobotClient.OneLine(t.GetString() ?? "?")))
            : "?";
        await Console.Out.WriteLineAsync($"execution {execution.Id} re-runs workflow {id} from {from}. Follow it with: opsrobot execution tail {execution.Id}");
        return ExitCodes.Succeeded;
    }

    public static Task<int> TailAsync(OpsRobotClient client, long id, CancellationToken cancellationToken) =>
        RunVerb.WatchAsync(client, id, json: false, cancellationToken);

    /// <summary>The execution's fields for people, then its output.</summary>
    internal static string Describe(ExecutionView e, string output)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"execution {e.Id}: {OpsRobotClient.OneLine(e.Action ?? "?")} {e.Status}\n");
        void Field(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                sb.Append("  ").Append(name.PadRight(12)).Append(value).Append('\n');
            }
        }

        Field("runner", e.RunnerType);
        Field("requested", $"{Text.Time(e.CreatedAt)} by {e.RequesterText(withDetails: true)}");
        Field("started", e.StartedAt is null ? null : Text.Time(e.StartedAt));
        Field("ended", e.EndedAt is null ? null : Text.Time(e.EndedAt));
        Field("duration", e.ElapsedSeconds is { } s ? Text.Duration(s) : null);
        Field("exit code", e.ExitCode?.ToString(CultureInfo.InvariantCulture));
        Field("error", e.Error is null ? null : OpsRobotClient.OneLine(e.Error));
        Field("attempt", e.Attempt is > 1 ? e.Attempt.Value.ToString(CultureInfo.InvariantCulture) : null);
        Field("retry of", e.RetryOf?.ToString(CultureInfo.InvariantCulture));
        Field("parent", e.ParentId?.ToString(CultureInfo.InvariantCulture));
        if (e.Parameters is { ValueKind: JsonValueKind.Object } parameters && parameters.EnumerateObject().Any())
        {
            sb.Append("  parameters\n");
            var width = parameters.EnumerateObject().Max(p => p.Name.Length) + 2;
            foreach (var p in parameters.EnumerateObject())
            {
                sb.Append("    ").Append(OpsRobotClient.OneLine(p.Name).PadRight(width)).Append(Text.Value(p.Value)).Append('\n');
            }
        }

        if (e.Result is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } result)
        {
            sb.Append("  result\n").Append(Text.Pretty(result, "    ")).Append('\n');
        }

        if (output.Length == 0)
        {
            sb.Append("\n(no output)\n");
        }
        else
        {
            sb.Append("\noutput:\n").Append(output);
            if (!output.EndsWith('\n'))
            {
                sb.Append('\n');
            }
        }

        return sb.ToString();
    }

    private static string ExecutionPath(long id) => "api/v1/executions/" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>A 404 on an execution's path means there is no such execution (the error shape was checked already).</summary>
    private static async Task<T> ForExecution<T>(long id, Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (ApiException ex) when (ex.StatusCode == (int)HttpStatusCode.NotFound)
        {
            throw new NoSuchExecutionException(id);
        }
    }

    private static void AddQuery(List<string> query, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            query.Add(name + "=" + Uri.EscapeDataString(value));
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Expressions;
using OpsRobot.Core.Workflows.Runtime;
using OpsRobot.Storage.Sqlite;

// The workflow engine on the three shapes StackStorm users report as slow: a long sequence, a wide join and a
// big with-items. Each runs in memory (the engine's own cost per task transition) and durable (the state stored in
// SQLite after every step, as the workflow runner stores it). A transition is one event applied to a task
// (requested, running, succeeded).
var expressions = new WorkflowExpressions();
var loader = new WorkflowLoader(expressions);
var shapes = new (string Name, string Yaml)[]
{
    ("sequence of 1,000 tasks", Sequence(1000)),
    ("join of 100 branches", Join(100)),
    ("with-items over 10,000 items", Items(10_000, null)),
    ("with-items over 10,000 items, 10 at a time", Items(10_000, 10)),
};

var dir = Directory.CreateTempSubdirectory("opsrobot-wfbench");
try
{
    foreach (var (name, yaml) in shapes)
    {
        var graph = loader.Load(yaml, name);
        Run(graph, expressions, null); // warm-up
        var memory = Run(graph, expressions, null);
        Report($"{name}, in memory", memory);

        var database = new SqliteDatabase(Options.Create(new SqliteOptions { Path = Path.Combine(dir.FullName, $"{Guid.NewGuid():N}.db") }), NullLogger<SqliteDatabase>.Instance);
        await database.MigrateAsync(TimeProvider.System, CancellationToken.None);
        var store = new SqliteWorkflowStore(database, TimeProvider.System);
        await InsertExecutionAsync(database);
        var durable = Run(graph, expressions, store);
        Report($"{name}, durable", durable);
    }
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    dir.Delete(recursive: true);
}

static (int Transitions, int Saves, int Whole, TimeSpan Elapsed) Run(WorkflowGraph graph, WorkflowExpressions expressions, SqliteWorkflowStore? store)
{
    var clock = Stopwatch.StartNew();
    var conductor = WorkflowConductor.Start(graph, expressions, null);
    var transitions = 0;

    // As the workflow runner stores a run: the whole state first, then a step per save (WorkflowRunWriter).
    var writer = store is null ? null : new WorkflowRunWriter(store, 1, "bench.flow", "bench.yaml", 0, null);
    var log = new WorkflowDispatchLog();
    void Save(bool finished = false)
    {
        if (writer is not null && !writer.SaveAsync(conductor.State, log, finished, CancellationToken.None).GetAwaiter().GetResult())
        {
            throw new InvalidOperationException("save refused");
        }
    }

    Save();
    var next = conductor.GetNextTasks();
    while (next.Count > 0)
    {
        // As the runner: mark what starts and store (with the outcomes fed back in the step before), then feed back
        // the outcomes.
        foreach (var task in next)
        {
            foreach (var action in task.Actions)
            {
                conductor.UpdateTask(task.Id, task.Route, new TaskEvent(WorkflowStatuses.Requested, null, action.ItemId));
                transitions++;
            }
        }

        Save();
        foreach (var task in next)
        {
            foreach (var action in task.Actions)
            {
                conductor.UpdateTask(task.Id, task.Route, new TaskEvent(WorkflowStatuses.Running, null, action.ItemId));
                conductor.UpdateTask(task.Id, task.Route, new TaskEvent(WorkflowStatuses.Succeeded, null, action.ItemId));
                transitions += 2;
            }
        }

        next = conductor.GetNextTasks();
    }

    Save(finished: true);

    if (conductor.Status != WorkflowStatuses.Succeeded)
    {
        throw new InvalidOperationException($"the workflow ended {conductor.Status}");
    }

    return (transitions, writer is null ? 0 : writer.Saves.Whole + writer.Saves.Steps, writer?.Saves.Whole ?? 0, clock.Elapsed);
}

static void Report(string name, (int Transitions, int Saves, int Whole, TimeSpan Elapsed) r) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}\t{r.Elapsed.TotalMilliseconds:0} ms\t{r.Transitions} transitions\t{r.Elapsed.TotalMicroseconds / r.Transitions:0.0} µs/transition\t{r.Saves} saves ({r.Whole} whole)"));

static async Task InsertExecutionAsync(SqliteDatabase database)
{
    await using var c = await database.OpenAsync(CancellationToken.None);
    await using var cmd = c.CreateCommand();
    cmd.CommandText = "INSERT INTO executions (id, action_ref, runner_type, parameters, status, requester, requester_user, created_at, owner) VALUES (1, 'bench.flow', 'workflow', '{}', 'running', '{}', 'bench', 0, 'bench')";
    await cmd.ExecuteNonQueryAsync();
}

static string Sequence(int n)
{
    var sb = new StringBuilder("version: 1.0\ntasks:\n");
    for (var i = 1; i <= n; i++)
    {
        sb.Append(CultureInfo.InvariantCulture, $"  t{i}:\n    action: core.noop\n");
        if (i < n)
        {
            sb.Append(CultureInfo.InvariantCulture, $"    next:\n      - when: <% succeeded() %>\n        do: t{i + 1}\n");
        }
    }

    return sb.ToString();
}

static string Join(int n)
{
    var sb = new StringBuilder("version: 1.0\ntasks:\n  start:\n    action: core.noop\n    next:\n      - do: ");
    sb.AppendJoin(", ", Enumerable.Range(1, n).Select(i => $"b{i}")).Append('\n');
    for (var i = 1; i <= n; i++)
    {
        sb.Append(CultureInfo.InvariantCulture, $"  b{i}:\n    action: core.noop\n    next:\n      - when: <% succeeded() %>\n        do: done\n");
    }

    return sb.Append("  done:\n    join: all\n    action: core.noop\n").ToString();
}

static string Items(int n, int? concurrency) => concurrency is { } c
    ? $"version: 1.0\nvars:\n  - xs: <% range({n}) %>\ntasks:\n  each:\n    with:\n      items: <% ctx(xs) %>\n      concurrency: {c}\n    action: core.noop\n    input:\n      i: <% item() %>\n"
    : $"version: 1.0\nvars:\n  - xs: <% range({n}) %>\ntasks:\n  each:\n    with: <% ctx(xs) %>\n    action: core.noop\n    input:\n      i: <% item() %>\n";

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Templates;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Storage.Tests.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Executions;

/// <summary>
/// The real execution service on a real SQLite file in a folder of its own, over a pack <c>ops</c> whose actions the
/// test writes (file name to YAML), run by the test's runner.
/// </summary>
internal sealed class ExecutionServiceHarness : IAsyncDisposable
{
    private ExecutionServiceHarness(TempDirectory dir, SqliteDatabase database, ExecutionService executions)
    {
        Dir = dir;
        Database = database;
        Store = new SqliteExecutionStore(database);
        Executions = executions;
    }

    public TempDirectory Dir { get; }

    public SqliteDatabase Database { get; }

    public SqliteExecutionStore Store { get; }

    public ExecutionService Executions { get; }

    public static async Task<ExecutionServiceHarness> StartAsync(
        string name, TestTimeProvider time, IRunner runner, IReadOnlyDictionary<string, string> actions,
        ExecutionEvents? events = null, ExecutionOptions? options = null, IExecutionGuard? guard = null)
    {
        var dir = new TempDirectory(name);
        dir.Write("packs/ops/pack.yaml", "name: ops\nversion: 1\ndescription: d\n");
        foreach (var (file, yaml) in actions)
        {
            dir.Write($"packs/ops/actions/{file}", yaml);
        }

        var database = SqliteTestDatabase.Create(dir.Combine("opsrobot.db"));
        await database.MigrateAsync(time, CancellationToken.None);
        var runners = new RunnerCatalog([runner]);
        var packs = new PackCatalog(new PackLoader(runners, new TemplateRenderer()));
        packs.Load(dir.Combine("packs")).Errors.ShouldBeEmpty();
        var executions = new ExecutionService(new SqliteExecutionStore(database), packs, runners, events ?? new ExecutionEvents(), time,
            Options.Create(options ?? new ExecutionOptions()), NullLogger<ExecutionService>.Instance, guard);
        return new ExecutionServiceHarness(dir, database, executions);
    }

    public async ValueTask DisposeAsync()
    {
        await Executions.DisposeAsync();
        await SqliteTestDatabase.ClosePoolAsync(Database);
        Dir.Dispose();
    }
}

using OpsRobot.Core.Packs;

namespace OpsRobot.Hosting;

/// <summary>Whether packs reload by themselves when their files change.</summary>
public sealed class PackWatchSettings
{
    /// <summary>Reload packs when a file under the packs folder changes (default: on in the Development environment).</summary>
    public bool? Watch { get; set; }

    /// <summary>How long the files must be quiet before reloading, so an editor's save is one reload.</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Reloads the packs when their files change, for pack authors at work. The reload is the same atomic swap as
/// <c>opsrobot packs reload</c>: a broken edit keeps the previous version loaded and logs the errors.
/// </summary>
internal sealed partial class PackWatcher(PackCatalog packs, OpsRobotPaths paths, PackWatchSettings settings, Core.Access.AccessService access, ILogger<PackWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var watcher = new FileSystemWatcher(paths.PacksDir) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size };
        var changed = new SemaphoreSlim(0);
        void OnChange(object? sender, FileSystemEventArgs e) => changed.Release();
        watcher.Changed += OnChange;
        watcher.Created += OnChange;
        watcher.Deleted += OnChange;
        watcher.Renamed += (s, e) => changed.Release();
        watcher.EnableRaisingEvents = true;
        LogWatching(logger, paths.PacksDir);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await changed.WaitAsync(stoppingToken);
                // Wait until the files have been quiet for the debounce time.
                while (await changed.WaitAsync(settings.Debounce, stoppingToken))
                {
                }

                var result = packs.Load(paths.PacksDir);
                LogReloaded(logger, result.Packs.Count, result.Actions.Count, result.Aliases.Count, result.Errors.Count);
                foreach (var error in result.Errors)
                {
                    LogPackError(logger, error.ToString());
                }

                await access.Audit.WriteAsync(new Core.Audit.AuditEntry
                {
                    Kind = Core.Audit.AuditKinds.PacksChanged,
                    Actor = "pack watcher",
                    Door = Core.Access.Doors.System,
                    Place = paths.PacksDir,
                    Subject = "reload packs (files changed)",
                    Detail = new System.Text.Json.Nodes.JsonObject
                    {
                        ["packs"] = new System.Text.Json.Nodes.JsonArray([.. result.Packs.Select(p => (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create($"{p.Name} {p.Version}"))]),
                        ["errors"] = result.Errors.Count,
                    },
                }, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            changed.Dispose();
        }

    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Watching {PacksDir} for pack changes")]
    private static partial void LogWatching(ILogger logger, string packsDir);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Packs reloaded after a change: {Packs} pack(s), {Actions} action(s), {Aliases} alias(es), {Errors} error(s)")]
    private static partial void LogReloaded(ILogger logger, int packs, int actions, int aliases, int errors);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Pack not reloaded: {Error}")]
    private static partial void LogPackError(ILogger logger, string error);
}

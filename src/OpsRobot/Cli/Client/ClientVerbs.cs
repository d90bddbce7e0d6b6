using System.CommandLine;

namespace OpsRobot.Cli.Client;

/// <summary>
/// The verbs that talk to a running server over the REST API (docs/api.md): <c>run</c>, <c>execution
/// list|get|cancel|pause|resume|rerun|tail</c> and <c>packs reload</c>. Unlike <c>shell</c> and <c>user</c> they never open the store
/// themselves, so they work against a server on another machine and never race it for the database.
/// </summary>
internal static class ClientVerbs
{
    private const string ExitCodeHelp =
        "Exit codes: 0 succeeded, 1 failed, 2 refused (unknown action, missing or mistyped parameter), "
        + "3 no server answers, 4 timed out, 5 canceled or abandoned, 130 interrupted (the execution keeps running).";

    /// <summary>Adds the client verbs to <paramref name="root"/>.</summary>
    public static void Add(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var url = new Option<string?>("--url")
        {
            Description = $"The OpsRobot server to talk to (default: ${OpsRobotClient.UrlVariable}, else {OpsRobotClient.DefaultUrl})",
            HelpName = "URL",
        };

        root.Subcommands.Add(RunCommand(url));
        root.Subcommands.Add(ExecutionCommand(url));

        // 'packs' also holds the offline verbs (validate); whichever Add runs first creates it.
        var packs = root.Subcommands.FirstOrDefault(c => c.Name == "packs");
        if (packs is null)
        {
            packs = new Command("packs", "Work with packs.");
            root.Subcommands.Add(packs);
        }

        packs.Subcommands.Add(PacksReloadCommand(url));
    }

    private static Command RunCommand(Option<string?> url)
    {
        var action = new Argument<string>("ACTION") { Description = "The action to run, as pack.name (see GET /api/v1/actions)" };
        var parameters = new Argument<string[]>("PARAMETERS")
        {
            Description = "Parameters as key=value, split at the first '='; key= is the empty string; quote values with spaces",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var background = new Option<bool>("--async") { Description = "Do not wait: print the new execution's id (just the number) and exit 0" };
        var json = new Option<bool>("--json") { Description = "Print the finished execution as JSON on standard output instead of its output" };
        var run = new Command("run",
            "Run an action on the server and follow its output live: the action's standard output and standard error "
            + "go to yours, then one line on standard error says how it ended. The server converts each text value to "
            + "the parameter's declared type. Ctrl+C stops watching but leaves the execution running.\n\n"
            + "Examples:\n"
            + "  opsrobot run core.echo message='hello world'\n"
            + "  opsrobot run deploy.app app=booking env=prod note=\n"
            + "  id=$(opsrobot run backup.db --async) && opsrobot execution tail \"$id\"\n"
            + "  opsrobot run checks.disk host=web01 --json | jq .result\n\n"
            + ExitCodeHelp)
        {
            action, parameters, background, json, url,
        };
        run.SetAction((r, ct) => InvokeAsync(r, url, (client, token) =>
            RunVerb.RunAsync(client, r.GetValue(action)!, r.GetValue(parameters) ?? [], r.GetValue(background), r.GetValue(json), token), ct));
        return run;
    }

    private static Command ExecutionCommand(Option<string?> url)
    {
        var actionFilter = new Option<string?>("--action") { Description = "Only executions of this action (pack.name)", HelpName = "REF" };
        var statusFilter = new Option<string?>("--status") { Description = "Only executions in this status", HelpName = "STATUS" };
        statusFilter.AcceptOnlyFromAmong(ExecutionVerbs.Statuses);
        var userFilter = new Option<string?>("--user") { Description = "Only executions requested by this user", HelpName = "USER" };
        var limit = new Option<int?>("--limit") { Description = "At most this many, newest first (1 to 1000; the server's default is 50)", HelpName = "N" };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } n && n is < 1 or > 1000)
            {
                result.AddError("--limit must be between 1 and 1000.");
            }
        });
        var listJson = new Option<bool>("--json") { Description = "Print the executions as a JSON array instead of a table" };
        var list = new Command("list",
            "List executions, newest first, as a table: id, action, status, who asked and through which door, when it "
            + "started, how long it took.\n\n"
            + "Examples:\n"
            + "  opsrobot execution list\n"
            + "  opsrobot execution list --status failed --limit 10\n"
            + "  opsrobot execution list --action deploy.app --user alice --json")
        {
            actionFilter, statusFilter, userFilter, limit, listJson, url,
        };
        list.SetAction((r, ct) => InvokeAsync(r, url, (client, token) => ExecutionVerbs.ListAsync(
            client, r.GetValue(actionFilter), r.GetValue(statusFilter), r.GetValue(userFilter), r.GetValue(limit), r.GetValue(listJson), token), ct));

        var getId = IdArgument();
        var getJson = new Option<bool>("--json") { Description = "Print the execution as JSON (without its output)" };
        var get = new Command("get",
            "Show one execution: status, action, parameters (secrets masked by the server), who asked, times, exit "
            + "code, error and result, then its whole output.\n\n"
            + "Examples:\n"
            + "  opsrobot execution get 42\n"
            + "  opsrobot execution get 42 --json | jq .status")
        {
            getId, getJson, url,
        };
        get.SetAction((r, ct) => InvokeAsync(r, url, (client, token) => ExecutionVerbs.GetAsync(client, r.GetValue(getId), r.GetValue(getJson), token), ct));

        var cancelId = IdArgument();
        var cancel = new Command("cancel",
            "Cancel an execution: one that waits is canceled at once, one that runs has its process tree stopped "
            + "(status canceling, then canceled). Prints the new status. A finished execution is left as it is.\n\n"
            + "Example:\n"
            + "  opsrobot execution cancel 42")
        {
            cancelId, url,
        };
        cancel.SetAction((r, ct) => InvokeAsync(r, url, (client, token) => ExecutionVerbs.CancelAsync(client, r.GetValue(cancelId), token), ct));

        var pauseId = IdArgument();
        var pause = new Command("pause",
            "Pause a running workflow: its running tasks finish, nothing new starts (status pausing, then paused) until "
            + "it is resumed or canceled. Its own timeout keeps counting. Only workflows pause.\n\n"
            + "Example:\n"
            + "  opsrobot execution pause 42")
        {
            pauseId, url,
        };
        pause.SetAction((r, ct) => InvokeAsync(r, url, (client, token) => ExecutionVerbs.ControlAsync(client, r.GetValue(pauseId), pause: true, token), ct));

        var resumeId = IdArgument();
        var resume = new Command("resume",
            "Resume a paused (or pausing) workflow: it goes on from where it stopped.\n\n"
            + "Example:\n"
            + "  opsrobot execution resume 42")
        {
            resumeId, url,
        };
        resume.SetAction((r, ct) => InvokeAsync(r, url, (client, token) => ExecutionVerbs.ControlAsync(client, r.GetValue(resumeId), pause: false, token), ct));

        var rerunId = IdArgument();
        var rerunTasks = new Option<string[]>("--tasks")
        {
            Description = "The tasks to re-run (default: every task whose failure ended the workflow)",
            AllowMultipleArgumentsPerToken = true,
        };
        var rerun = new Command("rerun",
            "Re-run a workflow that ended without succeeding from its failed tasks (or the ones named), keeping what "
            + "succeeded: their results and what they published carry over and they do not run again. The re-run is a "
            + "new execution; its number is printed.\n\n"
            + "Examples:\n"
            + "  opsrobot execution rerun 42\n"
            + "  opsrobot execution rerun 42 --tasks deploy notify")
        {
            rerunId, rerunTasks, url,
        };
        rerun.SetAction((r, ct) => InvokeAsync(r, url, (client, token) =>
            ExecutionVerbs.RerunAsync(client, r.GetValue(rerunId), [.. (r.GetValue(rerunTasks) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))], token), ct));

        var tailId = IdArgument();
        var tail = new Command("tail",
            "Follow an execution's output like 'run' does: everything so far, then live output until it finishes "
            + "(at once for a finished one). Ctrl+C stops watching, not the execution.\n\n"
            + "Examples:\n"
            + "  opsrobot execution tail 42\n"
            + "  opsrobot execution tail 42 2>/dev/null | grep ERROR\n\n"
            + ExitCodeHelp)
        {
            tailId, url,
        };
        tail.SetAction((r, ct) => InvokeAsync(r, url, (client, token) => ExecutionVerbs.TailAsync(client, r.GetValue(tailId), token), ct));

        return new Command("execution", "Look at, follow, cancel, pause, resume and re-run executions on the server (see 'opsrobot execution list --help').")
        {
            list, get, cancel, pause, resume, rerun, tail,
        };
    }

    private static Command PacksReloadCommand(Option<string?> url)
    {
        var reload = new Command("reload",
            "Ask the server to read its packs folder again. Prints the packs that loaded and every error "
            + "(file:line:col: message); a pack whose new files have errors keeps its previous version. Exits 1 when "
            + "there were errors.\n\n"
            + "Example:\n"
            + "  opsrobot packs reload")
        {
            url,
        };
        reload.SetAction((r, ct) => InvokeAsync(r, url, PacksReloadVerb.ReloadAsync, ct));
        return reload;
    }

    private static Argument<long> IdArgument() => new("ID") { Description = "The execution's id, as 'run --async' and 'execution list' print it" };

    /// <summary>
    /// Runs a client verb: builds the client, and turns every expected failure into one line on standard error
    /// and its exit code. Anything else is a bug and is allowed to surface as one.
    /// </summary>
    internal static Task<int> InvokeAsync(
        ParseResult result, Option<string?> url, Func<OpsRobotClient, CancellationToken, Task<int>> verb, CancellationToken cancellationToken) =>
        InvokeAsync(result, url, notFoundFails: false, verb, cancellationToken);

    /// <summary>
    /// Runs <paramref name="verb"/> as <see cref="InvokeAsync(ParseResult, Option{string?}, Func{OpsRobotClient, CancellationToken, Task{int}}, CancellationToken)"/>
    /// does; with <paramref name="notFoundFails"/>, a 404 ("there is no such host or key") ends it with exit 1, as
    /// the host and kv verbs document, rather than 2 (refused).
    /// </summary>
    internal static async Task<int> InvokeAsync(
        ParseResult result, Option<string?> url, bool notFoundFails, Func<OpsRobotClient, CancellationToken, Task<int>> verb, CancellationToken cancellationToken)
    {
        try
        {
            using var client = OpsRobotClient.Create(result.GetValue(url));
            return await verb(client, cancellationToken);
        }
        catch (ApiException ex) when (notFoundFails && ex.StatusCode == 404)
        {
            await Console.Error.WriteLineAsync($"opsrobot: {ex.Message}");
            return ExitCodes.Failed;
        }
        catch (ClientException ex)
        {
            await Console.Error.WriteLineAsync($"opsrobot: {ex.Message}");
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("opsrobot: interrupted.");
            return ExitCodes.Interrupted;
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using OpsRobot.Core.Access;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>The execution API: start, list, read, cancel, and follow output live. See docs/api.md.</summary>
internal static class ExecutionEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapExecutionApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/executions").WithTags("Executions");
        api.MapPost("/", CreateAsync).WithSummary("Run an action; answers at once with the execution, which runs in the background.");
        api.MapGet("/", ListAsync).WithSummary("List executions, newest first.");
        api.MapGet("/{id:long}", GetAsync).WithSummary("One execution.");
        api.MapPost("/{id:long}/cancel", CancelAsync).WithSummary("Cancel an execution; its process tree is stopped.");
        api.MapGet("/{id:long}/output", OutputAsync).WithSummary("The output: server-sent events (history, then live), or ?format=text.");
        return app;
    }

    private static async Task<IResult> CreateAsync(
        CreateExecutionRequest? request, HttpContext http, IUserStore users, ExecutionService executions, PackCatalog packs, AccessService access, TimeProvider time, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        if (request?.Action is not { Length: > 0 } action)
        {
            return Results.BadRequest(new ErrorDto("Give the action to run: {\"action\": \"pack.name\", \"parameters\": {...}}."));
        }

        // Authorized exactly as the same command typed in chat: grants, rooms, the tree scope of its parameters, sudo.
        if (packs.Current.FindAction(action) is { } definition)
        {
            var principal = caller.Principal;
            var parameters = request.Parameters?.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal) ?? [];
            // Hidden only when the user could not see it at all; a key's narrower scope is reported as such.
            var decision = AccessService.MaySeeAction(principal with { KeyScope = null }, definition)
                ? await access.AuthorizeRunAsync(principal, new RunRequest(definition, null, parameters) { Sudo = request.Sudo }, ct)
                : AccessDecision.Deny(DenialKind.Hidden, $"{principal.Name} may not see action {definition.Ref}", "hidden");
            var detail = new JsonObject { ["sudo"] = request.Sudo };
            principal.DescribeCredential(detail);
            await access.Audit.WriteAsync(new AuditEntry
            {
                Kind = AuditKinds.Command,
                Actor = principal.Name,
                Door = principal.Door,
                Place = caller.Address,
                Subject = $"run {definition.Ref}",
                Decision = decision.Allowed ? "allow" : "deny",
                Rule = decision.Rule,
                Detail = detail,
            }, ct);
            if (decision.Kind == DenialKind.Hidden)
            {
                return Results.BadRequest(new ErrorDto($"There is no action {action}."));
            }

            if (!decision.Allowed)
            {
                var text = decision.Kind switch
                {
                    DenialKind.SudoRequired => $"{definition.Ref} is a sudo action: send \"sudo\": true, with an elevation opened in chat (sudo) or in the web console.",
                    DenialKind.ElevationRequired => "This sudo action needs an open elevation: confirm one in chat (sudo COMMAND) or in the web console first.",
                    _ => decision.Explanation!,
                };
                return ApiCallers.Forbidden(text);
            }
        }

        try
        {
            var handle = await executions.RequestAsync(new ExecutionRequest(action, request.Parameters, new ExecutionRequester
            {
                Door = caller.Principal.Door == Doors.Cli ? ExecutionDoor.Cli : ExecutionDoor.Api,
                UserName = caller.UserName,
                Address = caller.Address,
            }), ct);
            return Results.Created($"/api/v1/executions/{handle.Execution.Id}", ExecutionDto.From(handle.Execution, time));
        }
        catch (ExecutionRequestException ex)
        {
            return Results.BadRequest(new ErrorDto(ex.Message));
        }
    }

    /// <summary>
    /// An execution is its requester's to see and cancel; others need the permission on its action. The pure
    /// check, for choosing the rows of a list; an attempt on one execution goes through <see cref="MayActAsync"/>.
    /// </summary>
    private static bool MayRead(ApiCaller caller, ExecutionRecord e, string permission) =>
        AccessService.MayActOnExecution(caller.Principal, e, permission);

    /// <summary>An attempt to see or act on one execution: a refusal is recorded in the audit.</summary>
    private static Task<bool> MayActAsync(HttpContext http, ApiCaller caller, ExecutionRecord e, string permission, CancellationToken ct) =>
        http.RequestServices.GetRequiredService<AccessService>().MayActOnExecutionAsync(caller.Principal, e, permission, ct);

    private static async Task<IResult> ListAsync(
        string? action, string? status, string? user, long? before, int? limit, HttpContext http, IUserStore users, ExecutionService executions, TimeProvider time, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        ExecutionStatus? wanted = null;
        if (status is not null)
        {
            if (!ExecutionStatuses.TryParseWire(status, out var parsed))
            {
                return Results.BadRequest(new ErrorDto($"Unknown status '{status}'; use one of: {string.Join(", ", Enum.GetValues<ExecutionStatus>().Select(s => s.ToWire()))}."));
            }

            wanted = parsed;
        }

        var pageSize = Math.Clamp(limit ?? 50, 1, 1000);
        var list = await executions.ListAsync(new ExecutionQuery { ActionRef = action, Status = wanted, UserName = user, BeforeId = before, Limit = pageSize }, ct);
        var visible = list.Where(e => MayRead(caller, e, Permissions.ExecutionView));
        return Results.Ok(new ExecutionPageDto([.. visible.Select(e => ExecutionDto.From(e, time))], list.Count == pageSize ? list[^1].Id : null));
    }

    private static async Task<IResult> GetAsync(long id, HttpContext http, IUserStore users, ExecutionService executions, TimeProvider time, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        return await executions.GetAsync(id, ct) is { } e && await MayActAsync(http, caller, e, Permissions.ExecutionView, ct) ? Results.Ok(ExecutionDto.From(e, time)) : NotFound(id);
    }

    private static async Task<IResult> CancelAsync(long id, HttpContext http, IUserStore users, ExecutionService executions, TimeProvider time, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        var before = await executions.GetAsync(id, ct);
        if (before is null || !await MayActAsync(http, caller, before, Permissions.ExecutionView, ct))
        {
            return NotFound(id);
        }

        if (!await MayActAsync(http, caller, before, Permissions.ExecutionCancel, ct))
        {
            return ApiCallers.Forbidden($"You need `{Permissions.ExecutionCancel}` on `{before.ActionRef}` to cancel execution #{id} (it is not yours).");
        }

        return await executions.CancelAsync(id, caller.UserName, ct) is { } e ? Results.Ok(ExecutionDto.From(e, time)) : NotFound(id);
    }

    private static async Task OutputAsync(long id, string? format, long? after, HttpContext http, IUserStore users, ExecutionService executions, ExecutionEvents events, TimeProvider time)
    {
        var ct = http.RequestAborted;
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            await ApiCallers.Refused().ExecuteAsync(http);
            return;
        }

        // Subscribe before reading anything, so nothing published in between is missed.
        using var subscription = events.Subscribe(id);
        var execution = await executions.GetAsync(id, ct);
        if (execution is null || !MayRead(caller, execution, Permissions.ExecutionView))
        {
            await NotFound(id).ExecuteAsync(http);
            return;
        }

        if (format == "text")
        {
            http.Response.ContentType = "text/plain; charset=utf-8";
            long seq = 0;
            while (true)
            {
                var page = await executions.ReadOutputAsync(id, seq, 1000, ct);
                foreach (var chunk in page)
                {
                    await http.Response.WriteAsync(chunk.Text, ct);
                    seq = chunk.Sequence;
                }

                if (page.Count < 1000)
                {
                    return;
                }
            }
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var last = after ?? (long.TryParse(http.Request.Headers["Last-Event-ID"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var fromHeader) ? fromHeader : 0);
        var writer = new SseWriter(http.Response);
        if (!execution.Status.IsFinished())
        {
            await writer.StatusAsync(ExecutionDto.From(execution, time), ct);
        }

        // Chunks are published live before they are stored, so a live chunk can arrive while earlier ones are not
        // in the store yet: hold such early chunks until the gap is filled, and always write in sequence order.
        var early = new SortedDictionary<long, OutputChunk>();
        async Task WriteInOrderAsync()
        {
            while (early.Remove(last + 1, out var next))
            {
                await writer.OutputAsync(next, ct);
                last = next.Sequence;
            }
        }

        async Task CatchUpFromStoreAsync()
        {
            while (true)
            {
                var page = await executions.ReadOutputAsync(id, last, 1000, ct);
                foreach (var chunk in page)
                {
                    early[chunk.Sequence] = chunk;
                }

                early.Remove(0);
                foreach (var key in early.Keys.Where(k => k <= last).ToList())
                {
                    early.Remove(key);
                }

                await WriteInOrderAsync();
                if (page.Count < 1000)
                {
                    return;
                }
            }
        }

        await CatchUpFromStoreAsync();
        if (execution.Status.IsFinished())
        {
            // Already over: its whole output, then its final status, then the end of the stream.
            await writer.StatusAsync(ExecutionDto.From(execution, time), ct);
            return;
        }

        var reader = subscription.Events;
        var connected = System.Diagnostics.Stopwatch.StartNew();
        while (!ct.IsCancellationRequested)
        {
            ExecutionEvent? next = null;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                // Chunks published just before this watcher subscribed reach the store within a flush interval, and
                // so do chunks missing in a gap (live ones ahead of ones not stored yet): look at the store again soon.
                var gap = early.Count > 0 || connected.Elapsed < TimeSpan.FromSeconds(2);
                wait.CancelAfter(gap ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromSeconds(15));
                try
                {
                    next = await reader.ReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    if (!gap)
                    {
                        await writer.KeepAliveAsync(ct);
                    }

                    await CatchUpFromStoreAsync();
                    continue;
                }
                catch (ChannelClosedException)
                {
                    // Fell behind the live feed: follow the store instead until the execution ends.
                    await FollowStoreAsync();
                    return;
                }
            }

            switch (next)
            {
                case ExecutionOutputEvent o when o.Chunk.Sequence > last:
                    early[o.Chunk.Sequence] = o.Chunk;
                    await WriteInOrderAsync();
                    break;
                case ExecutionStatusEvent s:
                    if (s.Execution.Status.IsFinished())
                    {
                        await CatchUpFromStoreAsync();
                        await writer.StatusAsync(ExecutionDto.From(s.Execution, time), ct);
                        return;
                    }

                    await writer.StatusAsync(ExecutionDto.From(s.Execution, time), ct);
                    break;
            }
        }

        async Task FollowStoreAsync()
        {
            while (!ct.IsCancellationRequested)
            {
                await CatchUpFromStoreAsync();
                var current = await executions.GetAsync(id, ct);
                if (current is null || current.Status.IsFinished())
                {
                    await CatchUpFromStoreAsync();
                    if (current is not null)
                    {
                        await writer.StatusAsync(ExecutionDto.From(current, time), ct);
                    }

                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), time, ct);
            }
        }
    }

    private static IResult NotFound(long id) => Results.NotFound(new ErrorDto($"There is no execution {id.ToString(CultureInfo.InvariantCulture)}."));

    /// <summary>Writes server-sent events.</summary>
    private sealed class SseWriter(HttpResponse response)
    {
        public async Task OutputAsync(OutputChunk chunk, CancellationToken ct)
        {
            var data = JsonSerializer.Serialize(new OutputChunkDto(chunk.Sequence, chunk.Kind == OutputKind.Stderr ? "stderr" : "stdout", chunk.Text), Json);
            await response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"event: output\nid: {chunk.Sequence}\ndata: {data}\n\n"), Encoding.UTF8, ct);
            await response.Body.FlushAsync(ct);
        }

        public async Task StatusAsync(ExecutionDto execution, CancellationToken ct)
        {
            await response.WriteAsync($"event: status\ndata: {JsonSerializer.Serialize(execution, Json)}\n\n", Encoding.UTF8, ct);
            await response.Body.FlushAsync(ct);
        }

        public async Task KeepAliveAsync(CancellationToken ct)
        {
            await response.WriteAsync(": keep-alive\n\n", Encoding.UTF8, ct);
            await response.Body.FlushAsync(ct);
        }
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json;

namespace OpsRobot.Cli.Client;

/// <summary>
/// Follows one execution through <c>GET /api/v1/executions/{id}/output</c> until it finishes: its stored output,
/// then live output as it arrives, written to standard output or standard error by kind. A stream that drops
/// (the connection breaks, the server restarts, it goes silent past the keep-alives) is reopened with
/// <c>Last-Event-ID</c>, a bounded number of times, so nothing is printed twice and nothing is skipped.
/// </summary>
internal sealed class ExecutionFollower(OpsRobotClient client, TextWriter stdout, TextWriter stderr)
{
    /// <summary>How many times in a row a dropped stream is reopened, without new output in between, before the client gives up.</summary>
    public const int MaxReconnects = 10;

    /// <summary>The server promises a keep-alive every 15 seconds; three missed ones mean the connection is dead.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(45);

    /// <summary>
    /// After the finished status, how long to wait for the server to close the stream before closing it ourselves
    /// (the server should close at once; stored output it still sends is printed).
    /// </summary>
    public static readonly TimeSpan FinishedGrace = TimeSpan.FromSeconds(5);

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    private long _lastSequence = long.MinValue;
    private string? _lastEventId;
    private TextWriter? _lastWriter;
    private bool _endsWithNewline = true;

    /// <summary>
    /// Follows execution <paramref name="id"/> until it finishes and returns it as finished. With
    /// <paramref name="printOutput"/> false the output is read and dropped (for <c>--json</c>).
    /// </summary>
    public async Task<ExecutionView> FollowAsync(long id, bool printOutput, CancellationToken cancellationToken)
    {
        var path = $"api/v1/executions/{id.ToString(CultureInfo.InvariantCulture)}/output";
        var reconnects = 0;
        var connectedOnce = false;
        while (true)
        {
            ExecutionView? finished = null;
            var sequenceBefore = _lastSequence;
            string why;
            try
            {
                using var response = await client.OpenEventStreamAsync(path, _lastEventId, cancellationToken);
                connectedOnce = true;
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await foreach (var e in ServerSentEvents.ReadAsync(body, () => finished is null ? IdleTimeout : FinishedGrace, cancellationToken))
                {
                    switch (e.Type)
                    {
                        case "output":
                            await WriteChunkAsync(e, printOutput);
                            break;
                        case "status":
                            var execution = ExecutionView.From(ParseData(e), $"The status event of execution {id}");
                            finished = execution.IsFinished ? execution : null;
                            break;
                        default:
                            // Event types this client does not know yet: ignored, so a newer server still works.
                            break;
                    }
                }

                if (finished is not null)
                {
                    return await DoneAsync(finished);
                }

                why = "the server closed the stream before the execution finished";
            }
            catch (StreamIdleException) when (finished is not null)
            {
                // The server did not close the stream after the last status; it has said all that matters.
                return await DoneAsync(finished);
            }
            catch (ApiException ex) when (ex.StatusCode == (int)HttpStatusCode.NotFound)
            {
                throw new NoSuchExecutionException(id);
            }
            catch (ServerUnreachableException) when (!connectedOnce)
            {
                throw;
            }
            catch (ServerUnreachableException ex)
            {
                // Connected before: the server may be restarting, which is what reconnecting is for.
                why = ex.Message;
            }
            catch (ApiException ex) when (ex.StatusCode >= 500 && connectedOnce)
            {
                why = $"the server answered HTTP {ex.StatusCode.ToString(CultureInfo.InvariantCulture)}: {ex.Message}";
            }
            catch (UnexpectedAnswerException ex) when (ex.InnerException is HttpRequestException or IOException)
            {
                // The connection broke while the request or the headers were on their way (a pooled keep-alive
                // connection the server had just closed, say): the same blip as below, one step earlier. A server
                // that is not there at all is a ServerUnreachableException instead, and the tries are bounded.
                why = ex.Message;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or StreamIdleException && !cancellationToken.IsCancellationRequested)
            {
                why = OpsRobotClient.OneLine(ex.Message);
            }

            // A break after the final status is still a break: a server may send the status before the stored output
            // (it does for a finished execution), so reconnect for whatever came after the last chunk printed.
            if (_lastSequence > sequenceBefore)
            {
                // New output came through before the drop: a flaky link, not a lost cause; start counting again.
                reconnects = 0;
            }

            if (++reconnects > MaxReconnects)
            {
                throw new UnexpectedAnswerException(
                    $"lost the output of execution {id} ({why}) and could not get it back in {MaxReconnects} tries. Follow it with: opsrobot execution tail {id}");
            }

            // 0.5s, 1s, 2s, then every 4s: quick for a blip, gentle on a server that is coming back up.
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(4000, 250 << Math.Min(reconnects, 4))), cancellationToken);
        }
    }

    private async Task<ExecutionView> DoneAsync(ExecutionView finished)
    {
        // Output that did not end its line would run into the summary on a terminal; end it there, not in a pipe.
        if (!_endsWithNewline && _lastWriter is not null && !IsRedirected(_lastWriter))
        {
            await _lastWriter.WriteAsync('\n');
            await _lastWriter.FlushAsync();
        }

        return finished;
    }

    private async Task WriteChunkAsync(ServerSentEvent e, bool print)
    {
        var chunk = ParseChunk(e);
        if (chunk.Seq <= _lastSequence)
        {
            // Already printed: a replay after reconnecting to a server that ignored Last-Event-ID.
            return;
        }

        _lastSequence = chunk.Seq;
        _lastEventId = e.Id ?? chunk.Seq.ToString(CultureInfo.InvariantCulture);
        if (!print || string.IsNullOrEmpty(chunk.Text))
        {
            return;
        }

        var writer = chunk.Kind == "stderr" ? stderr : stdout;
        await writer.WriteAsync(chunk.Text);
        await writer.FlushAsync();
        _lastWriter = writer;
        _endsWithNewline = chunk.Text.EndsWith('\n');
    }

    private bool IsRedirected(TextWriter writer) =>
        ReferenceEquals(writer, stdout) ? Console.IsOutputRedirected : Console.IsErrorRedirected;

    private static OutputChunk ParseChunk(ServerSentEvent e)
    {
        OutputChunk? chunk;
        try
        {
            chunk = JsonSerializer.Deserialize<OutputChunk>(e.Data, Options);
        }
        catch (JsonException ex)
        {
            throw new UnexpectedAnswerException($"An output event is not {{\"seq\", \"kind\", \"text\"}}: {OpsRobotClient.OneLine(ex.Message)}", ex);
        }

        return chunk ?? throw new UnexpectedAnswerException("An output event had no data.");
    }

    private static JsonElement ParseData(ServerSentEvent e)
    {
        try
        {
            using var document = JsonDocument.Parse(e.Data);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new UnexpectedAnswerException($"A '{e.Type}' event's data is not JSON: {OpsRobotClient.OneLine(ex.Message)}", ex);
        }
    }

    private sealed record OutputChunk(long Seq, string? Kind, string? Text);
}

/// <summary>The server knows no execution with this id.</summary>
internal sealed class NoSuchExecutionException(long id)
    : ClientException(FormattableString.Invariant($"there is no execution {id}."), ExitCodes.Failed);

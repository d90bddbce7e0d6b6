using System.Runtime.CompilerServices;
using System.Text;

namespace OpsRobot.Cli.Client;

/// <summary>One dispatched server-sent event.</summary>
/// <param name="Type">The <c>event:</c> field, <c>message</c> when absent.</param>
/// <param name="Data">The <c>data:</c> lines joined with newlines.</param>
/// <param name="Id">The <c>id:</c> field of this event, when it had one.</param>
internal sealed record ServerSentEvent(string Type, string Data, string? Id);

/// <summary>The stream went quiet for longer than the server's keep-alive promise: the connection is presumed dead.</summary>
internal sealed class StreamIdleException(TimeSpan idle)
    : TimeoutException($"the server sent nothing for {idle.TotalSeconds:0} seconds");

/// <summary>
/// Reads <c>text/event-stream</c> (the WHATWG format). Written here rather than using the framework's
/// <c>SseParser</c> because the client must see the <c>: keep-alive</c> comments, which that parser swallows: a
/// stream that stays silent past them is a dead connection to reconnect, not a quiet execution.
/// </summary>
internal static class ServerSentEvents
{
    /// <summary>
    /// The events of <paramref name="stream"/> until it ends. Throws <see cref="StreamIdleException"/> when no line
    /// (event or comment) arrives for <paramref name="idleTimeout"/>; <paramref name="idleTimeout"/> is read again
    /// before every line, so the caller can shorten it while reading.
    /// </summary>
    public static async IAsyncEnumerable<ServerSentEvent> ReadAsync(
        Stream stream, Func<TimeSpan> idleTimeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(idleTimeout);
        using var reader = new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), detectEncodingFromByteOrderMarks: false);
        string? type = null;
        string? id = null;
        var data = new StringBuilder();
        var hasData = false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            // One timer for the whole stream, pushed back before every line.
            var idle = idleTimeout();
            timeout.CancelAfter(idle);
            string? line;
            try
            {
                line = await reader.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new StreamIdleException(idle);
            }

            // The caller's time with an event (a slow pipe on its standard output) is not silence on the stream.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            if (line is null)
            {
                // End of stream: an event without its blank line is incomplete and dropped, as the format says.
                yield break;
            }

            if (line.Length == 0)
            {
                if (hasData)
                {
                    // The format strips the newline after the last data line.
                    yield return new ServerSentEvent(type ?? "message", data.ToString(0, data.Length - 1), id);
                }

                type = null;
                id = null;
                data.Clear();
                hasData = false;
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            switch (field)
            {
                case "event":
                    type = value;
                    break;
                case "data":
                    data.Append(value).Append('\n');
                    hasData = true;
                    break;
                case "id" when !value.Contains('\0', StringComparison.Ordinal):
                    id = value;
                    break;
                default:
                    // "retry" and unknown fields: this client reconnects on its own schedule.
                    break;
            }
        }
    }
}

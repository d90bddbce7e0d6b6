using Microsoft.AspNetCore.Diagnostics;
using OpsRobot.Core.Storage;

namespace OpsRobot.Web;

/// <summary>
/// When the store cannot be written (the database locked by another process, its disk full, its file gone), every
/// API call that needed it answers 503 with the store's own sentence, such as "The disk holding the database is
/// full; free space, then try again.", and a <c>Retry-After</c>: the caller learns what is wrong and that it passes,
/// instead of a generic "An error occurred". The server itself stays up and recovers when the condition clears.
/// </summary>
internal sealed partial class StoreUnavailableHandler(ILogger<StoreUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not StoreUnavailableException unavailable)
        {
            return false;
        }

        LogRefused(logger, httpContext.Request.Method, httpContext.Request.Path, unavailable.Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "5";
        await httpContext.Response.WriteAsJsonAsync(new ErrorDto(unavailable.Message), cancellationToken).ConfigureAwait(false);
        return true;
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "Refused {Method} {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, PathString path, string reason);
}

using System.Net;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>Who is calling the API: a signed-in user, or (until API keys exist) an anonymous caller on this machine.</summary>
internal sealed record ApiCaller(string UserName, bool IsSignedIn, string? Address);

/// <summary>
/// Decides who an API call comes from. Until access control brings API keys and bearer tokens, an anonymous call
/// is accepted only from a loopback address with a loopback <c>Host</c> header: the second check stops a web page
/// that uses DNS rebinding to reach the local API from the user's browser.
/// </summary>
internal static class ApiCallers
{
    public const string LocalUser = "local";

    public static async Task<ApiCaller?> IdentifyAsync(HttpContext http, IUserStore users, CancellationToken cancellationToken)
    {
        var address = http.Connection.RemoteIpAddress;
        if (await WebChatEndpoints.CurrentUserAsync(http, users, cancellationToken) is { } user)
        {
            return new ApiCaller(user.Name, true, address?.ToString());
        }

        return address is not null && IPAddress.IsLoopback(address) && IsLoopbackHost(http.Request.Host.Host)
            ? new ApiCaller(LocalUser, false, address.ToString())
            : null;
    }

    public static IResult Refused() => Results.Json(
        new ErrorDto("Sign in first. Anonymous calls are accepted only from this machine (127.0.0.1, localhost)."),
        statusCode: StatusCodes.Status401Unauthorized);

    private static bool IsLoopbackHost(string host) =>
        host is "localhost" or "127.0.0.1" or "[::1]" or "::1" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}

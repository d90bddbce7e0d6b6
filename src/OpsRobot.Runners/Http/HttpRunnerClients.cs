using System.Net;
using System.Net.Security;

namespace OpsRobot.Runners.Http;

/// <summary>
/// The named <see cref="HttpClient"/>s of the http runner: one per combination of certificate verification and
/// redirect following, so turning verification off for one action never turns it off for another.
/// </summary>
internal static class HttpRunnerClients
{
    public const string Verified = "OpsRobot.Runners.Http";
    public const string VerifiedFollowingRedirects = "OpsRobot.Runners.Http.FollowRedirects";
    public const string Unverified = "OpsRobot.Runners.Http.NoCertificateCheck";
    public const string UnverifiedFollowingRedirects = "OpsRobot.Runners.Http.NoCertificateCheck.FollowRedirects";

    public static IEnumerable<(string Name, bool VerifyCertificate, bool FollowRedirects)> All { get; } =
    [
        (Verified, true, false),
        (VerifiedFollowingRedirects, true, true),
        (Unverified, false, false),
        (UnverifiedFollowingRedirects, false, true),
    ];

    public static string Name(bool verifyCertificate, bool followRedirects) => (verifyCertificate, followRedirects) switch
    {
        (true, false) => Verified,
        (true, true) => VerifiedFollowingRedirects,
        (false, false) => Unverified,
        (false, true) => UnverifiedFollowingRedirects,
    };

    public static SocketsHttpHandler CreateHandler(bool verifyCertificate, bool followRedirects, HttpRunnerOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = followRedirects,
            MaxAutomaticRedirections = Math.Max(1, options.MaxRedirects),

            // Handlers are pooled and shared by every execution: a cookie jar would carry one user's session
            // into another's request. Cookies go only where an action sends them (the 'cookies' parameter).
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.All,
        };

        if (!verifyCertificate)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
#pragma warning disable CA5359 // Only for actions that say verify_ssl_cert: false, on this handler alone.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
#pragma warning restore CA5359
            };
        }

        return handler;
    }
}

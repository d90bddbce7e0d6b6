namespace OpsRobot.Runners.Http;

/// <summary>Limits of the <c>http</c> runner; a host may bind them from configuration.</summary>
public sealed class HttpRunnerOptions
{
    /// <summary>
    /// The largest response body (after decompression) kept in a result; a larger answer fails the execution with
    /// a clear error instead of filling memory. Raising it raises what one execution can hold and store.
    /// </summary>
    public long MaxResponseBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>The request timeout when the action gives no <c>timeout</c> parameter (StackStorm's default, 60 s).</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many redirects to follow when an action sets <c>allow_redirects: true</c> (Python requests' limit).</summary>
    public int MaxRedirects { get; set; } = 30;
}

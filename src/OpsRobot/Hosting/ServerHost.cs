using System.Net;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging.Console;
using OpsRobot.Core.Alerts;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Status;
using OpsRobot.Core.Users;
using OpsRobot.Web;

namespace OpsRobot.Hosting;

/// <summary>What a test or the CLI can change about the server before it is built.</summary>
public sealed class ServerOverrides
{
    /// <summary>The home folder; defaults to <c>OPSROBOT_HOME</c> or the current directory.</summary>
    public string? Home { get; init; }

    /// <summary>Configuration values applied over every other source (the CLI's <c>--listen</c>, <c>--data</c>, <c>--packs</c>).</summary>
    public IDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    public TimeProvider? Time { get; init; }

    /// <summary>Where the first-start banner is written; the console when null.</summary>
    public TextWriter? Console { get; init; }
}

/// <summary>The running server: web chat, API, health.</summary>
public sealed class ServerHost : IAsyncDisposable
{
    private ServerHost(WebApplication app, OpsRobotPaths paths, PackLoadResult packs, (string UserName, string? GeneratedPassword)? firstAdmin)
    {
        App = app;
        Paths = paths;
        Packs = packs;
        FirstAdmin = firstAdmin;
    }

    public WebApplication App { get; }

    public OpsRobotPaths Paths { get; }

    public PackLoadResult Packs { get; }

    /// <summary>Set on the very first start: the administrator made, and the password generated for it (null when configured).</summary>
    public (string UserName, string? GeneratedPassword)? FirstAdmin { get; }

    /// <summary>The addresses Kestrel bound, once started (with the real port when 0 was asked).</summary>
    public IReadOnlyList<string> Addresses =>
        [.. App.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? []];

    /// <summary>Builds the server, checks its folders, migrates the store, loads packs and makes the first administrator.</summary>
    public static async Task<ServerHost> CreateAsync(string[] args, ServerOverrides overrides, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var home = overrides.Home ?? OpsRobotPaths.ResolveHome();
        WebApplicationBuilder builder;
        try
        {
            builder = WebApplication.CreateBuilder(new WebApplicationOptions
            {
                Args = Composition.HostArgs(args),
                ContentRootPath = home,
                WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
            });
            builder.Configuration.AddInMemoryCollection(overrides.Settings);
        }
        catch (InvalidDataException ex)
        {
            throw new StartupException($"{ex.Message} {ex.InnerException?.Message} Fix the file (it must be valid JSON) and start again.", ex);
        }
        catch (FormatException ex)
        {
            throw new StartupException($"A command-line setting is malformed: {ex.Message} Settings are written --OpsRobot:Key=value.", ex);
        }

        var (settings, robot) = Composition.LoadSettings(builder.Configuration);
        var paths = OpsRobotPaths.Resolve(home, settings);
        Composition.EnsureWritable(paths.DataDir);
        var time = overrides.Time ?? TimeProvider.System;

        ConfigureLogging(builder.Logging, forShell: false);
        ConfigureListen(builder, settings.Listen);

        // Before anything touches the store: a server that cannot listen (another one has the port) must not
        // recover, resume or run anything of the data folder it shares with the one that listens.
        ListenCheck.EnsureCanListen(settings.Listen);

        builder.Services.AddOpsRobot(builder.Configuration, paths, robot, time);
        try
        {
            builder.Services.AddOpsRobotIrc(builder.Configuration);
            builder.Services.AddOpsRobotSlack(builder.Configuration);
            builder.Services.AddOpsRobotMattermost(builder.Configuration);
            builder.Services.AddOpsRobotRocketChat(builder.Configuration);
        }
        catch (InvalidOperationException ex)
        {
            throw new StartupException($"{ex.Message} Fix it in appsettings.json, the OPSROBOT__CHAT__… environment variables or the command line.", ex);
        }
        builder.Services.AddHostedService<WorkflowResumer>();
        builder.Services.AddSingleton(settings.SignIn);
        builder.Services.AddSingleton<Accounts>();
        builder.Services.AddSingleton<IStatusSource, WebChatStatus>();
        builder.Services.AddOpsRobotRulesHosting(builder.Configuration);
        builder.Services.AddOpsRobotAlertPosting();
        var watch = new PackWatchSettings();
        builder.Configuration.GetSection("OpsRobot:Packs").Bind(watch);
        builder.Services.AddSingleton(watch);
        if (watch.Watch ?? builder.Environment.IsDevelopment())
        {
            builder.Services.AddHostedService<PackWatcher>();
        }

        // Last of the hosted services, so stopped first after Kestrel: running executions get StopGrace and are then
        // stopped and marked abandoned while the chat adapters can still tell their rooms. The host waits for that.
        var stopGrace = builder.Configuration.GetSection("OpsRobot:Executions").Get<Core.Executions.ExecutionOptions>()?.StopGrace ?? new Core.Executions.ExecutionOptions().StopGrace;
        builder.Services.AddHostedService<ExecutionShutdown>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ExecutionShutdown.HostShutdownTimeout(stopGrace));

        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "OpsRobot API";
            doc.Info.Version = Composition.ProductVersion;
            doc.Info.Description = "Actions, aliases and executions. See docs/api.md.";
            return Task.CompletedTask;
        }));
        builder.Services.AddDataProtection()
            .SetApplicationName("OpsRobot")
            .PersistKeysToFileSystem(PrivateFolder(Path.Combine(paths.DataDir, "keys")));
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.Cookie.Name = "opsrobot.session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = settings.SignIn.SessionLifetime;
            o.SlidingExpiration = true;
            // An API answers 401/403, it does not redirect to a sign-in page.
            o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
            o.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
        });
        builder.Services.AddAuthorization();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.MaxDepth = 16);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<Web.StoreUnavailableHandler>();

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpsRobot");
        var packs = await Composition.PrepareAsync(app.Services, logger, cancellationToken);
        var firstAdmin = await Accounts.EnsureFirstAdminAsync(
            app.Services.GetRequiredService<IUserStore>(), app.Services.GetRequiredService<Core.Access.IAccessStore>(), app.Services.GetRequiredService<TimeProvider>(), settings.Admin, cancellationToken);

        app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = StatusCodeFor });
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";
            headers["Referrer-Policy"] = "no-referrer";
            await next(context);
        });
        app.UseWhen(WebhookEndpoints.JsonOnlyApplies, b => b.UseMiddleware<JsonOnlyMiddleware>());
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(app.Environment.WebRootPath),
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpsRobotHealth();
        app.MapWebChat();
        app.MapWebChatStream();
        app.MapCatalogApi();
        app.MapExecutionApi();
        app.MapOpsRobotRulesApi();
        app.MapAccessApi();
        app.MapHostApi();
        if (app.Services.GetService<OpsRobot.Chat.Mattermost.MattermostAdapter>() is { } mattermost)
        {
            // Mattermost's interactive buttons call back here; each press carries a context signed by the adapter.
            app.MapPost(OpsRobot.Chat.Mattermost.MattermostOptions.ActionPath, async (HttpRequest request, CancellationToken ct) =>
            {
                var body = await OpsRobot.Chat.Connected.ChatHttp.ReadCappedAsync(request.Body, 64 * 1024, ct);
                var (status, json) = body is null ? (413, """{"error":"The body is larger than 64 KiB."}""") : mattermost.HandleAction(System.Text.Encoding.UTF8.GetString(body));
                return Results.Content(json, "application/json", statusCode: status);
            });
        }

        if (app.Services.GetService<OpsRobot.Chat.Slack.SlackAdapter>() is { } slack)
        {
            // Slack's Events API and interactivity over HTTP: answered only with a SigningSecret, each request's signature checked.
            app.MapPost(OpsRobot.Chat.Slack.SlackOptions.EventsPath, async (HttpRequest request, CancellationToken ct) =>
            {
                var body = await OpsRobot.Chat.Connected.ChatHttp.ReadCappedAsync(request.Body, 1024 * 1024, ct);
                var (status, type, text) = body is null ? (413, "text/plain", "The body is larger than 1 MiB.")
                    : slack.HandleHttp(request.Headers["X-Slack-Request-Timestamp"], request.Headers["X-Slack-Signature"], body, request.ContentType);
                return Results.Content(text, type, statusCode: status);
            });
        }

        app.MapWorkflowApi();
        app.MapInquiryApi();
        app.MapOpenApi();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/openapi/v1.json", "OpsRobot API");
            o.DocumentTitle = "OpsRobot API";
        });

        return new ServerHost(app, paths, packs, firstAdmin);
    }

    /// <summary>Starts listening. A port already in use or an address that cannot be bound becomes a <see cref="StartupException"/>.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await App.StartAsync(cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException
                                     || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new StartupException(ListenCheck.PortInUse(ListenSetting), ex);
        }
        catch (IOException ex) when (ex.InnerException is System.Net.Sockets.SocketException socket)
        {
            throw new StartupException(ListenCheck.CannotListen(ListenSetting, socket), ex);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            // Kestrel lets some bind errors through bare (an address this machine does not have).
            throw new StartupException(ListenCheck.CannotListen(ListenSetting, ex), ex);
        }
        catch (IOException ex)
        {
            throw new StartupException($"Cannot listen: {ex.Message} Check OpsRobot:Listen.", ex);
        }
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();

    private string ListenSetting => App.Configuration[$"{OpsRobotSettings.Section}:Listen"] ?? new OpsRobotSettings().Listen;

    internal static void ConfigureLogging(ILoggingBuilder logging, bool forShell)
    {
        logging.ClearProviders();
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // "Hosting failed to start" repeats, with a stack trace, what the start-up check reports in one clear line.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        // "Key may be persisted unencrypted": the keys folder is private to this account (see PrivateFolder).
        logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        if (forShell)
        {
            // The shell chat's standard output is the conversation: logs go to standard error, and only problems.
            logging.SetMinimumLevel(LogLevel.Warning);
            logging.AddSimpleConsole(o => o.SingleLine = true);
            logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            return;
        }

        if (System.Console.IsOutputRedirected)
        {
            logging.AddJsonConsole(o => o.UseUtcTimestamp = true);
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }
    }

    /// <summary>
    /// The folder for the keys that sign session cookies: readable by this account only. Data Protection warns that
    /// the keys are stored unencrypted; on Linux, file permissions are the protection, and the docs say to back the
    /// folder up with the database.
    /// </summary>
    private static DirectoryInfo PrivateFolder(string path)
    {
        var dir = Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return dir;
    }

    private static void ConfigureListen(WebApplicationBuilder builder, string listen)
    {
        foreach (var url in listen.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.AbsolutePath != "/")
            {
                throw new StartupException($"OpsRobot:Listen '{listen}' is not an address to listen on; write it like http://127.0.0.1:5080.");
            }

            if (uri.Host != "localhost" && uri.Host != "*" && uri.Host != "+" && !IPAddress.TryParse(uri.Host.Trim('[', ']'), out _))
            {
                throw new StartupException($"OpsRobot:Listen '{url}' names a host; give an IP address (127.0.0.1, 0.0.0.0, [::1]) or localhost.");
            }
        }

        builder.WebHost.UseUrls(listen);
    }

    private static int StatusCodeFor(Exception ex) => ex switch
    {
        Core.Storage.StoreUnavailableException => StatusCodes.Status503ServiceUnavailable,
        BadHttpRequestException bad => bad.StatusCode,
        _ => StatusCodes.Status500InternalServerError,
    };
}

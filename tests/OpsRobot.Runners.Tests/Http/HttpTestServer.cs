using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpsRobot.Runners.Tests.Http;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (random ports): plain HTTP, and HTTPS with a self-signed certificate that
/// no client trusts.
/// </summary>
public sealed class HttpTestServer : IAsyncLifetime
{
    private WebApplication? _app;

    public string Http { get; private set; } = "";

    public string Https { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var certificate = SelfSigned();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });

        var app = builder.Build();
        app.MapGet("/json", () => Results.Json(new { hello = "world", n = 1 }));
        app.MapGet("/problem", () => Results.Text("{\"title\":\"bad\"}", "application/problem+json"));
        app.MapGet("/badjson", () => Results.Text("not json {", "application/json"));
        app.MapGet("/text", () => Results.Text("plain text", "text/plain"));
        app.MapGet("/latin1", () => Results.Bytes([0x63, 0x61, 0x66, 0xE9], "text/plain; charset=iso-8859-1"));
        app.MapGet("/status/{code:int}", (int code) => code is 204 or 304 ? Results.StatusCode(code) : Results.Text($"status {code}", "text/plain", statusCode: code));
        app.MapGet("/redirect", () => Results.Redirect("/json"));
        app.MapGet("/slow", async (HttpContext context) =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
            return Results.Ok();
        });
        app.MapGet("/big/{bytes:int}", (int bytes) => Results.Text(new string('a', bytes), "text/plain"));
        app.MapGet("/bigstream/{bytes:int}", async (HttpContext context, int bytes) =>
        {
            // No Content-Length: the limit must hold while reading.
            context.Response.ContentType = "text/plain";
            var chunk = new byte[4096];
            Array.Fill(chunk, (byte)'b');
            for (var sent = 0; sent < bytes && !context.RequestAborted.IsCancellationRequested; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, bytes - sent)), context.RequestAborted);
            }
        });
        app.Map("/echo", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var headers = new JsonObject();
            foreach (var (name, value) in context.Request.Headers)
            {
                headers[name.ToLowerInvariant()] = value.ToString();
            }

            return Results.Json(new JsonObject
            {
                ["method"] = context.Request.Method,
                ["query"] = context.Request.QueryString.Value,
                ["headers"] = headers,
                ["body"] = await reader.ReadToEndAsync(),
            });
        });

        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Http = addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal));
        Https = addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal));
        _app = app;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        // Reloaded from PKCS#12 so the private key is usable by SslStream on Linux.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}

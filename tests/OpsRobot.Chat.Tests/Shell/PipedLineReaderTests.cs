using System.IO.Pipes;
using System.Text;
using OpsRobot.Chat.Shell;

namespace OpsRobot.Chat.Tests.Shell;

public sealed class PipedLineReaderTests
{
    [Fact]
    public async Task ReadsLines_EndedByLfCrLfOrCr_LastLineWithoutEnd_BomDropped()
    {
        using var reader = new PipedLineReader(new MemoryStream(Encoding.UTF8.GetBytes("\uFEFFone\ntwo\r\nthree\rfour\r\n\nfive")));
        var lines = new List<string?>();
        string? line;
        while ((line = await reader.ReadLineAsync(CancellationToken.None)) is not null)
        {
            lines.Add(line);
        }

        lines.ShouldBe(["one", "two", "three", "four", string.Empty, "five"]);
    }

    [Fact]
    public async Task LinesAcrossBlocks_AndMultiByteCharactersSplitByABlock_AreWhole()
    {
        // 64 KiB blocks: a line of 100,000 two-byte characters crosses blocks, and its characters straddle them.
        var longLine = new string('é', 100_000);
        using var reader = new PipedLineReader(new MemoryStream(Encoding.UTF8.GetBytes($"a\n{longLine}\nb\n")));

        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe("a");
        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe(longLine);
        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe("b");
        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task InvalidUtf8_BecomesReplacementCharacters_NotAnError()
    {
        using var reader = new PipedLineReader(new MemoryStream([(byte)'o', 0xff, (byte)'k', (byte)'\n']));

        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe("o\uFFFDk");
    }

    [Fact]
    public async Task TryReadBufferedLine_SaysWhetherTheNextLineIsHere_WithoutWaiting()
    {
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new PipedLineReader(new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle));

        reader.TryReadBufferedLine(out _).ShouldBeFalse();
        await server.WriteAsync(Encoding.UTF8.GetBytes("one\ntwo\nthr"));
        await server.FlushAsync();

        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe("one");
        reader.TryReadBufferedLine(out var second).ShouldBeTrue();
        second.ShouldBe("two");
        reader.TryReadBufferedLine(out _).ShouldBeFalse(); // "thr" is not a line yet

        await server.WriteAsync(Encoding.UTF8.GetBytes("ee\n"));
        server.Dispose();
        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe("three");
        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBeNull();
        reader.TryReadBufferedLine(out var end).ShouldBeTrue();
        end.ShouldBeNull();
    }
}

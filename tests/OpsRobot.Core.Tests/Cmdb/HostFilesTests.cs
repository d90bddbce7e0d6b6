using System.Text.Json.Nodes;
using OpsRobot.Core.Cmdb;

namespace OpsRobot.Core.Tests.Cmdb;

public sealed class HostFilesTests
{
    private const string Header = "hostname,addresses,environment,application,tags,owner,status,attr.os";

    [Fact]
    public void ReadCsv_Rfc4180Quoting_CommasQuotesAndLineBreaksInsideFields()
    {
        var csv = Header + "\r\n"
            + "web01,10.0.0.1;10.0.0.2,prod,corp/booking,web;nginx,\"Booking, Inc.\",active,\"Debian \"\"bookworm\"\"\"\r\n"
            + "web02,10.0.0.3,prod,corp/booking,,\"two\nlines\",active,\r\n"
            + "web03,10.0.0.4,prod,corp/booking,,,active,plain\r\n";

        var (hosts, problems) = HostFiles.Read(csv, HostFileFormat.Csv, 100);

        problems.ShouldBeEmpty();
        hosts.Select(h => h.Line).ShouldBe([2, 3, 5]);
        hosts[0].Host.Addresses.ShouldBe(["10.0.0.1", "10.0.0.2"]);
        hosts[0].Host.Tags.ShouldBe(["web", "nginx"]);
        hosts[0].Host.Owner.ShouldBe("Booking, Inc.");
        hosts[0].Host.Attributes["os"].ShouldBe("Debian \"bookworm\"");
        hosts[1].Host.Owner.ShouldBe("two\nlines");
    }

    [Theory]
    [InlineData("too few fields", Header + "\nweb01,10.0.0.1\n", 2, "2 fields where the header has 8")]
    [InlineData("a stray quote", Header + "\nweb01,10.0.0.1,prod,corp,x\"y,o,active,\n", 2, "a quote inside an unquoted field")]
    [InlineData("text after a closing quote", Header + "\nweb01,\"10.0.0.1\"x,prod,corp,,o,active,\n", 2, "text after a closing quote")]
    [InlineData("an unterminated quote", Header + "\nweb01,10.0.0.1,prod,corp,,\"never closed,active,\n", 2, "a quoted field is never closed")]
    [InlineData("an unknown column", "hostname,colour\nweb01,red\n", 1, "unknown column 'colour'")]
    [InlineData("no hostname column", "addresses\n10.0.0.1\n", 1, "the header has no 'hostname' column")]
    [InlineData("a column twice", "hostname,owner,owner\nweb01,a,b\n", 1, "column 'owner' appears twice")]
    [InlineData("an empty file", "", 1, "the file is empty")]
    public void ReadCsv_BadLine_ProblemNamesTheLine(string row, string csv, int line, string expected)
    {
        var (_, problems) = HostFiles.Read(csv, HostFileFormat.Csv, 100);

        problems.ShouldContain(p => p.Line == line && p.Message.Contains(expected, StringComparison.Ordinal), row + ": " + string.Join(" | ", problems));
    }

    [Fact]
    public void ReadCsv_BadLineAmongGoodOnes_GoodOnesReadAndTheBadOneReported()
    {
        var (hosts, problems) = HostFiles.Read(Header + "\nweb01,,,,,,,\nweb02,oops\nweb03,,,,,,,\n", HostFileFormat.Csv, 100);

        hosts.Select(h => h.Host.Hostname).ShouldBe(["web01", "web03"]);
        problems.ShouldHaveSingleItem().Line.ShouldBe(3);
    }

    [Fact]
    public void ReadCsv_MoreHostsThanAllowed_Refused()
    {
        var (_, problems) = HostFiles.Read(Header + "\na,,,,,,,\nb,,,,,,,\nc,,,,,,,\n", HostFileFormat.Csv, 2);

        problems.ShouldHaveSingleItem().Message.ShouldContain("more than 2 hosts");
    }

    [Theory]
    [InlineData("a formula", "=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"")]
    [InlineData("a plus", "+1+cmd|' /C calc'!A0", "\"'+1+cmd|' /C calc'!A0\"")]
    [InlineData("a minus", "-2+3", "\"'-2+3\"")]
    [InlineData("an at sign", "@SUM(A1)", "\"'@SUM(A1)\"")]
    [InlineData("a leading tab", "\t=1", "\"'\t=1\"")]
    [InlineData("a leading carriage return", "\r=1", "\"'\r=1\"")]
    [InlineData("an apostrophe before a formula", "'=1", "\"''=1\"")]
    [InlineData("two apostrophes", "''x", "\"'''x\"")]
    [InlineData("an apostrophe before text", "'quoted'", "'quoted'")]
    [InlineData("plain text", "ops-team", "ops-team")]
    public void WriteCsv_CellsThatStartLikeAFormula_AreTextToASpreadsheet_AndReadBackUnchanged(string row, string owner, string cell)
    {
        var host = new HostRecord("web01", [], null, null, [], owner, "active", new Dictionary<string, string>(StringComparer.Ordinal) { ["note"] = owner });

        var csv = HostFiles.Write([host], HostFileFormat.Csv);
        var (hosts, problems) = HostFiles.Read(csv, HostFileFormat.Csv, 10);

        csv.Split("\r\n")[1].ShouldBe($"web01,,,,,{cell},active,{cell}", row);
        problems.ShouldBeEmpty(row);
        var back = hosts.ShouldHaveSingleItem().Host;
        back.Owner.ShouldBe(owner, row);
        back.Attributes["note"].ShouldBe(owner, row);
    }

    [Fact]
    public void WriteCsv_ThenRead_SameHosts_WithHostileValuesQuoted()
    {
        var host = new HostRecord("web01", ["10.0.0.1", "web01.example.com"], "prod", "corp/booking", ["a", "b"], "=HYPERLINK(\"x\")", "active",
            new Dictionary<string, string>(StringComparer.Ordinal) { ["note"] = "one, \"two\"\nthree", ["os"] = "debian" });

        var csv = HostFiles.Write([host], HostFileFormat.Csv);
        var (hosts, problems) = HostFiles.Read(csv, HostFileFormat.Csv, 10);

        csv.ShouldStartWith("hostname,addresses,environment,application,tags,owner,status,attr.note,attr.os\r\n");
        csv.ShouldContain(",\"'=HYPERLINK(\"\"x\"\")\",");
        problems.ShouldBeEmpty();
        var back = hosts.ShouldHaveSingleItem().Host;
        back.Owner.ShouldBe(host.Owner);
        back.Addresses.ShouldBe(host.Addresses);
        back.Attributes["note"].ShouldBe("one, \"two\"\nthree");
    }

    [Fact]
    public void ReadJson_ArrayOrHostsObject_LinesOfEachHost()
    {
        var json = """
            {"hosts": [
              {"hostname": "web01", "addresses": ["10.0.0.1"], "attributes": {"os": "debian", "cpus": 4}},
              {"hostname": "web02", "tags": "a,b"}
            ]}
            """;

        var (hosts, problems) = HostFiles.Read(json, HostFileFormat.Json, 10);

        problems.ShouldBeEmpty();
        hosts.Select(h => h.Line).ShouldBe([2, 3]);
        hosts[0].Host.Attributes["cpus"].ShouldBe("4");
        hosts[1].Host.Tags.ShouldBe(["a", "b"]);
    }

    [Theory]
    [InlineData("not JSON", "[{\"hostname\": ", "not valid JSON")]
    [InlineData("not an array", "\"web01\"", "must be a JSON array of hosts")]
    [InlineData("an object without hosts", "{\"servers\": []}", "an object with a \"hosts\" array")]
    [InlineData("a host that is not an object", "[\n\"web01\"]", "a host must be a JSON object")]
    [InlineData("an unknown field", "[\n{\"hostname\": \"web01\", \"colour\": \"red\"}]", "unknown field 'colour'")]
    [InlineData("a list of numbers", "[\n{\"hostname\": \"web01\", \"addresses\": [1]}]", "addresses must be a list of strings")]
    [InlineData("a nested attribute", "[\n{\"hostname\": \"web01\", \"attributes\": {\"x\": {\"y\": 1}}}]", "attribute 'x' must be a string, number or boolean")]
    public void ReadJson_Bad_ProblemExplains(string row, string json, string expected)
    {
        var (_, problems) = HostFiles.Read(json, HostFileFormat.Json, 10);

        problems.ShouldContain(p => p.Message.Contains(expected, StringComparison.Ordinal), row + ": " + string.Join(" | ", problems));
    }

    [Fact]
    public void FromJson_BodyNamesAnotherHostThanTheAddress_Refused()
    {
        var (host, problems) = HostFiles.FromJson(JsonNode.Parse("{\"hostname\": \"db01\"}"), "web01");

        host.ShouldBeNull();
        problems.ShouldHaveSingleItem().ShouldContain("the body names host 'db01' but the address names 'web01'");
    }
}
